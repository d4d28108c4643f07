import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Key management from a terminal, through the gateway's admin API. Needs nothing but Java 17:
 * run it as {@code bin/keyauth <command>} (or {@code java bin/KeyAuthCli.java <command>}).
 * <p>
 * Exit codes: 0 done, 1 the API refused the call, 2 wrong usage, 3 the API could not be reached.
 */
public class KeyAuthCli {

	private static final String USAGE = """
			usage: keyauth <command> [options]

			  create --consumer ID [--name NAME] [--scope SCOPE]... [--ttl P30D | --expires-at 2030-01-01T00:00:00Z]
			         [--rate REQUESTS_PER_SECOND[:BURST]] [--metadata '{"json":"object"}']
			  list [--consumer ID] [--page N] [--size N]
			  show ID
			  revoke ID
			  revoke-all --consumer ID
			  rotate ID [--grace PT24H]
			  disable ID
			  enable ID
			  identify             reads a raw key from standard input (never give a key as an argument:
			                       the shell's history and the process list keep those; at a terminal
			                       it is not echoed) and shows which key it is, e.g. one found in a log:
			                       bin/keyauth identify < leaked.txt

			environment:
			  KEYAUTH_ADMIN_TOKEN  the admin token (required)
			  KEYAUTH_ADMIN_URL    the admin API (default http://127.0.0.1:8081/actuator/apikeys)
			""";

	public static void main(String[] args) {
		System.exit(run(args));
	}

	static int run(String[] args) {
		if (args.length == 0 || args[0].equals("help") || args[0].equals("--help") || args[0].equals("-h")) {
			System.out.print(USAGE);
			return (args.length == 0) ? 2 : 0;
		}
		String token = System.getenv("KEYAUTH_ADMIN_TOKEN");
		if (token == null || token.isBlank()) {
			System.err.println("error: set KEYAUTH_ADMIN_TOKEN to the gateway's admin token");
			return 2;
		}
		String base = System.getenv().getOrDefault("KEYAUTH_ADMIN_URL", "http://127.0.0.1:8081/actuator/apikeys")
			.replaceAll("/+$", "");
		try {
			Call call = parse(args);
			return send(base, token, call);
		}
		catch (UsageException ex) {
			System.err.println("error: " + ex.getMessage());
			System.err.print(USAGE);
			return 2;
		}
	}

	record Call(String method, String path, String body) {
	}

	static final class UsageException extends RuntimeException {

		UsageException(String message) {
			super(message);
		}

	}

	private static Call parse(String[] args) {
		String command = args[0];
		Map<String, List<String>> options = new LinkedHashMap<>();
		List<String> positional = new ArrayList<>();
		for (int i = 1; i < args.length; i++) {
			if (args[i].startsWith("--")) {
				if (i + 1 >= args.length) {
					throw new UsageException(args[i] + " needs a value");
				}
				options.computeIfAbsent(args[i].substring(2), (k) -> new ArrayList<>()).add(args[++i]);
			}
			else {
				positional.add(args[i]);
			}
		}
		return switch (command) {
			case "create" -> new Call("POST", "", createBody(options));
			case "list" -> new Call("GET", query(options, List.of("consumer", "page", "size")), null);
			case "show" -> new Call("GET", "/" + id(positional), null);
			case "revoke" -> new Call("DELETE", "/" + id(positional), null);
			case "revoke-all" -> new Call("DELETE", "?consumerId=" + encode(required(options, "consumer")), null);
			case "rotate" -> new Call("POST", "/" + id(positional) + "/rotate",
					options.containsKey("grace") ? "{\"gracePeriod\":" + quote(single(options, "grace")) + "}" : "{}");
			case "disable", "enable" -> new Call("POST", "/" + id(positional) + "/" + command, null);
			case "identify" -> new Call("POST", "/identify", "{\"key\":" + quote(keyFromStandardInput(positional)) + "}");
			default -> throw new UsageException("unknown command '" + command + "'");
		};
	}

	private static String createBody(Map<String, List<String>> options) {
		StringBuilder body = new StringBuilder("{\"consumerId\":").append(quote(required(options, "consumer")));
		if (options.containsKey("name")) {
			body.append(",\"name\":").append(quote(single(options, "name")));
		}
		if (options.containsKey("scope")) {
			body.append(",\"scopes\":[")
				.append(String.join(",", options.get("scope").stream().map(KeyAuthCli::quote).toList()))
				.append(']');
		}
		if (options.containsKey("ttl")) {
			body.append(",\"ttl\":").append(quote(single(options, "ttl")));
		}
		if (options.containsKey("expires-at")) {
			body.append(",\"expiresAt\":").append(quote(single(options, "expires-at")));
		}
		if (options.containsKey("rate")) {
			String[] rate = single(options, "rate").split(":");
			try {
				int rps = Integer.parseInt(rate[0]);
				int burst = (rate.length > 1) ? Integer.parseInt(rate[1]) : rps;
				body.append(",\"rateLimit\":{\"requestsPerSecond\":").append(rps).append(",\"burst\":").append(burst)
					.append('}');
			}
			catch (NumberFormatException ex) {
				throw new UsageException("--rate is REQUESTS_PER_SECOND or REQUESTS_PER_SECOND:BURST, e.g. 10:20");
			}
		}
		if (options.containsKey("metadata")) {
			body.append(",\"metadata\":").append(single(options, "metadata"));
		}
		return body.append('}').toString();
	}

	private static int send(String base, String token, Call call) {
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + call.path()))
			.timeout(Duration.ofSeconds(15))
			.header("Authorization", "Bearer " + token);
		if (call.body() != null) {
			request.header("Content-Type", "application/json")
				.method(call.method(), HttpRequest.BodyPublishers.ofString(call.body()));
		}
		else {
			request.method(call.method(), HttpRequest.BodyPublishers.noBody());
		}
		HttpResponse<String> response;
		try {
			response = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
				.send(request.build(), HttpResponse.BodyHandlers.ofString());
		}
		catch (ConnectException | HttpConnectTimeoutException ex) {
			System.err.println("error: cannot reach the admin API at " + base
					+ " (is the gateway running, and is that its management port? set KEYAUTH_ADMIN_URL)");
			return 3;
		}
		catch (HttpTimeoutException ex) {
			System.err.println("error: the admin API at " + base + " did not answer in time");
			return 3;
		}
		catch (IOException ex) {
			System.err.println("error: talking to " + base + " failed: " + ex.getMessage());
			return 3;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return 3;
		}
		int status = response.statusCode();
		if (status >= 200 && status < 300) {
			System.out.println(response.body());
			return 0;
		}
		String message = field(response.body(), "message");
		String reason = switch (status) {
			case 401 -> "the admin token was refused (check KEYAUTH_ADMIN_TOKEN)";
			case 403 -> "the admin API is disabled: the gateway has no admin token configured";
			case 404 -> (message != null) ? message : "no such key (or no admin API at " + base + ")";
			case 503 -> "the key store is unavailable; retry later";
			default -> (message != null) ? message : "HTTP " + status;
		};
		System.err.println("error: " + reason + ((status == 400 || status == 409) ? "" : " [HTTP " + status + "]"));
		return 1;
	}

	private static String field(String json, String name) {
		Matcher matcher = Pattern.compile("\"" + name + "\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(json);
		return matcher.find() ? matcher.group(1).replace("\\\"", "\"") : null;
	}

	private static String keyFromStandardInput(List<String> positional) {
		if (!positional.isEmpty()) {
			throw new UsageException("give the key on standard input, not as an argument");
		}
		String key;
		java.io.Console console = System.console();
		if (console != null && isTerminal(console)) {
			// At a terminal: not echoed, so the key stays off the screen and its scrollback.
			char[] typed = console.readPassword("API key (not shown): ");
			key = (typed != null) ? new String(typed) : "";
		}
		else {
			try {
				key = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8))
					.readLine();
			}
			catch (IOException ex) {
				throw new UsageException("cannot read standard input: " + ex.getMessage());
			}
		}
		if (key == null || key.isBlank()) {
			throw new UsageException("no key on standard input");
		}
		return key.strip();
	}

	/**
	 * From Java 22 a console exists even when standard input is a file or a pipe;
	 * {@code isTerminal()} (22 and later) tells. On Java 17 a console means a terminal.
	 */
	private static boolean isTerminal(java.io.Console console) {
		try {
			return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
		}
		catch (ReflectiveOperationException ex) {
			return true;
		}
	}

	private static String id(List<String> positional) {
		if (positional.size() != 1) {
			throw new UsageException("give exactly one key id");
		}
		return encode(positional.get(0));
	}

	private static String required(Map<String, List<String>> options, String name) {
		if (!options.containsKey(name)) {
			throw new UsageException("--" + name + " is required");
		}
		return single(options, name);
	}

	private static String single(Map<String, List<String>> options, String name) {
		List<String> values = options.get(name);
		if (values.size() != 1) {
			throw new UsageException("--" + name + " may be given once");
		}
		return values.get(0);
	}

	private static String query(Map<String, List<String>> options, List<String> allowed) {
		StringBuilder query = new StringBuilder();
		for (Map.Entry<String, List<String>> option : options.entrySet()) {
			if (!allowed.contains(option.getKey())) {
				throw new UsageException("unknown option --" + option.getKey());
			}
			String name = option.getKey().equals("consumer") ? "consumerId" : option.getKey();
			query.append(query.isEmpty() ? '?' : '&').append(name).append('=')
				.append(encode(single(options, option.getKey())));
		}
		return query.toString();
	}

	private static String encode(String value) {
		return URLEncoder.encode(value, StandardCharsets.UTF_8);
	}

	private static String quote(String value) {
		StringBuilder quoted = new StringBuilder("\"");
		for (char c : value.toCharArray()) {
			switch (c) {
				case '"' -> quoted.append("\\\"");
				case '\\' -> quoted.append("\\\\");
				default -> {
					if (c < 0x20) {
						quoted.append(String.format("\\u%04x", (int) c));
					}
					else {
						quoted.append(c);
					}
				}
			}
		}
		return quoted.append('"').toString();
	}

}
