"""The receiver classes the JIT's C2 compiler found in the type profiles of virtual and interface
calls, from -XX:+LogCompilation files (bench/jit.sh writes one).

python3 bench/type_profiles.py KEYAUTH.log
    call sites in shared code (JDK, Netty, Reactor, Spring) whose profiles name a class of the
    plugin or of a library only the plugin drives (Lettuce, R2DBC, Caffeine, Flyway, ...)
python3 bench/type_profiles.py BASELINE.log KEYAUTH.log [CALLER-PREFIX,...]
    call sites (callers starting with a prefix; default io.netty) compiled in both JVMs whose
    profiled classes differ, or that one JVM found megamorphic and the other did not

A profile holds two classes per call site, the first two it meets, and counts the rest without
naming them; C2 inlines a call whose profile names every class it saw (one or two), and makes a
slower virtual or interface call where a third class was counted ("megamorphic" below). A call
site's profile belongs to the method, so every caller that inlines it shares it: a class that only
background work passes through can take a place the request path needed.
"""
import collections
import re
import sys

PLUGIN_SIDE = ("dev.keyauth", "io.lettuce", "io.r2dbc", "com.github.benmanes", "io.github.resilience4j",
               "org.flywaydb")
ATTRIBUTE = re.compile(r"(\w+)='([^']*)'")


def read(path):
    """(caller, bci, callee) -> (Counter of receiver classes, compilations, megamorphic compilations)."""
    receivers = collections.defaultdict(collections.Counter)
    compilations = collections.Counter()
    megamorphic = collections.Counter()
    classes, methods, parsing, bci, in_task = {}, {}, [], None, False
    with open(path, errors="replace") as log:
        for line in log:
            if line.startswith("<task "):
                in_task = True
                classes.clear(), methods.clear(), parsing.clear()
            elif line.startswith("</task>"):
                in_task = False
            elif not in_task:
                continue
            elif line.startswith(("<klass ", "<type ")):
                a = dict(ATTRIBUTE.findall(line))
                classes[a["id"]] = a.get("name", "?")
            elif line.startswith("<method "):
                a = dict(ATTRIBUTE.findall(line))
                methods[a["id"]] = classes.get(a["holder"], "?") + "." + a["name"]
            elif line.startswith("<parse "):
                parsing.append(methods.get(dict(ATTRIBUTE.findall(line))["method"], "?"))
            elif line.startswith("</parse>"):
                if parsing:
                    parsing.pop()
            elif line.startswith("<bc "):
                bci = dict(ATTRIBUTE.findall(line)).get("bci")
            elif line.startswith("<call ") and "virtual='1'" in line and parsing:
                a = dict(ATTRIBUTE.findall(line))
                site = (parsing[-1], bci, methods.get(a["method"], "?"))
                compilations[site] += 1
                named = [classes.get(a[k], "?").split("$$Lambda")[0] for k in ("receiver", "receiver2") if k in a]
                if not named:
                    megamorphic[site] += 1
                receivers[site].update(named)
    return {site: (receivers[site], compilations[site], megamorphic[site]) for site in compilations}


def plugin_side(name):
    return name.startswith(PLUGIN_SIDE)


def shared_sites(profiles):
    rows = [(site, seen) for site, (seen, _, _) in profiles.items()
            if not plugin_side(site[0]) and any(plugin_side(c) for c in seen)]
    print(f"{len(rows)} call sites in shared code whose profile names a plugin-side class")
    for (caller, bci, callee), seen in sorted(rows):
        print(f"  {caller} @{bci} -> {callee.split('.')[-1]}: {', '.join(sorted(seen))}")


def differing_sites(base, other, prefixes):
    rows = []
    for site in sorted(set(base) & set(other)):
        if not site[0].startswith(prefixes):
            continue
        (seen_a, n_a, mega_a), (seen_b, n_b, mega_b) = base[site], other[site]
        if set(seen_a) != set(seen_b) or (mega_a > 0) != (mega_b > 0):
            rows.append((site, (seen_a, n_a, mega_a), (seen_b, n_b, mega_b)))
    def describe(seen, n, mega):
        return ("megamorphic" if mega == n else ", ".join(sorted(seen))) + f"  ({n} compilations, {mega} megamorphic)"
    for (caller, bci, callee), a, b in rows:
        print(f"{caller} @{bci} -> {callee.split('.')[-1]}\n  first:  {describe(*a)}\n  second: {describe(*b)}")
    mono_a = sum(1 for _, a, b in rows if len(a[0]) == 1 and len(b[0]) > 1)
    widened = sum(1 for _, a, b in rows if a[2] == 0 and b[2] > 0)
    print(f"{len(rows)} differing call sites; monomorphic in the first and not in the second: {mono_a}; "
          f"megamorphic only in the second: {widened}")


if __name__ == "__main__":
    if len(sys.argv) == 2:
        shared_sites(read(sys.argv[1]))
    else:
        prefixes = tuple(sys.argv[3].split(",")) if len(sys.argv) > 3 else ("io.netty",)
        differing_sites(read(sys.argv[1]), read(sys.argv[2]), prefixes)
