"""Per-request cost of chosen frames in async-profiler's collapsed stacks.

python3 bench/profile_summary.py <label>=<collapsed file>:<requests> ...

For CPU profiles taken at a 1 ms interval, one sample is one millisecond of CPU, so samples per
request * 1000 is microseconds of CPU per request; for allocation profiles the figure is
allocation samples per 1000 requests (proportional to bytes). A frame counts once per stack
(inclusive time), so nested frames are not added twice.
"""
import sys

FRAMES = [
    ("whole process", None),
    ("key auth filter", "dev/keyauth/filter/ApiKeyAuthenticationFilter.filter"),
    ("  forwarded request (identity headers)", "dev/keyauth/filter/IdentityHeaders.authenticated"),
    ("  key check (format, SHA-256, cache)", "dev/keyauth/authentication/LookupApiKeyAuthenticator.authenticate"),
    ("rate-limit filter", "dev/keyauth/ratelimit/ApiKeyRateLimitFilter.filter"),
    ("  rate limiter", "dev/keyauth/ratelimit/ApiKeyRateLimiter.consume"),
    ("gateway header filters (request and response)", "org/springframework/cloud/gateway/filter/headers/HttpHeadersFilter.filter"),
    ("  of which request headers", "org/springframework/cloud/gateway/filter/headers/HttpHeadersFilter.filterRequest"),
    ("gateway routing filter (all)", "org/springframework/cloud/gateway/filter/NettyRoutingFilter.filter"),
    ("JIT compiler threads", "CompileBroker::compiler_thread_loop"),
]


def load(path):
    inclusive = {label: 0 for label, _ in FRAMES}
    with open(path) as lines:
        for line in lines:
            stack, count = line.rstrip().rsplit(" ", 1)
            frames = set(stack.split(";"))
            for label, frame in FRAMES:
                if frame is None or frame in frames:
                    inclusive[label] += int(count)
    return inclusive


def main(args):
    columns = []
    for arg in args:
        label, rest = arg.split("=", 1)
        path, requests = rest.rsplit(":", 1)
        columns.append((label, load(path), float(requests)))
    print("| frame | " + " | ".join(label for label, _, _ in columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for label, _ in FRAMES:
        cells = ["%.1f" % (1000 * counts[label] / requests) for _, counts, requests in columns]
        print("| " + label + " | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
