// A worked example of testing an integration against a bizmail sandbox (docs/SANDBOX.md), in
// Java 11+ with nothing but the JDK. `OaClient` is the integration under test: it reads a member
// through the BizMail OpenApi, backs off on "busy" (1002) and fetches a new token on 1200. The
// test makes the sandbox answer busy twice and expire tokens after one second, checks the client
// copes, then reads the record of what it sent as HAR.
//
// Run it as a single source file:
//   BIZMAIL_URL=http://127.0.0.1:12211 BIZMAIL_ADMIN=admin BIZMAIL_KEY=<interface key> \
//   BIZMAIL_SANDBOX_KEY=<control key> BIZMAIL_ALIAS=bob@example.com java SandboxExample.java

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class SandboxExample {
    static final String BASE = System.getenv("BIZMAIL_URL").replaceAll("/$", "");
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** The integration under test. */
    static class OaClient {
        String token;
        int tokenFetches;

        String post(String path, String form) throws Exception {
            HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(BASE + path))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form));
            if (token != null && path.startsWith("/openapi/")) {
                req.header("Authorization", "Bearer " + token);
            }
            return HTTP.send(req.build(), HttpResponse.BodyHandlers.ofString()).body();
        }

        void fetchToken() throws Exception {
            String answer = post("/cgi-bin/token", "grant_type=client_credentials&client_id="
                + enc(System.getenv("BIZMAIL_ADMIN")) + "&client_secret=" + enc(System.getenv("BIZMAIL_KEY")));
            token = field(answer, "access_token");
            tokenFetches++;
        }

        String call(String endpoint, String form) throws Exception {
            for (int attempt = 0; attempt < 5; attempt++) {
                if (token == null) {
                    fetchToken();
                }
                String answer = post("/openapi/" + endpoint, form);
                String code = field(answer, "errcode");
                if ("1200".equals(code)) {
                    token = null;
                } else if ("1002".equals(code)) {
                    Thread.sleep(100L << attempt);
                } else {
                    return answer;
                }
            }
            throw new IllegalStateException(endpoint + ": gave up");
        }
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** A string or number field of a flat JSON answer (enough for this example). */
    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"?([^\",}]*)").matcher(json);
        return m.find() ? m.group(1) : null;
    }

    static String control(String method, String path, String body) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(BASE + "/sandbox/v1" + path))
            .header("Authorization", "Bearer " + System.getenv("BIZMAIL_SANDBOX_KEY"))
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
            .build();
        HttpResponse<String> resp = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
        if (resp.statusCode() != 200) {
            throw new IllegalStateException(method + " " + path + ": " + resp.statusCode() + " " + resp.body());
        }
        return resp.body();
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    public static void main(String[] args) throws Exception {
        String alias = System.getenv("BIZMAIL_ALIAS");
        control("DELETE", "/record", null);
        control("PUT", "/faults", "{\"seed\": 7, \"token_ttl_secs\": 1, \"rules\": ["
            + "{\"endpoint\": \"openapi/user/get\", \"error\": 1002, \"count\": 2}]}");

        OaClient oa = new OaClient();
        String user = oa.call("user/get", "alias=" + enc(alias));
        check(alias.equals(field(user, "Alias")), "user/get answered: " + user);
        System.out.println("user/get answered after the busy answers");

        Thread.sleep(1200);
        oa.call("user/get", "alias=" + enc(alias));
        check(oa.tokenFetches == 2, "a new token after the early expiry: " + oa.tokenFetches);
        System.out.println("a token that expired early was replaced");

        String har = control("GET", "/record.har", null);
        int busy = har.split("\"_fault\"\\s*:\\s*\"error 1002\"", -1).length - 1;
        check(busy == 2, "two busy answers in the record, found " + busy);
        check(!har.contains(System.getenv("BIZMAIL_KEY")), "the interface key is masked");
        check(har.contains("\"version\":\"1.2\"") || har.contains("\"version\": \"1.2\""), "HAR 1.2");
        control("DELETE", "/faults", null);
        System.out.println("OK: the integration survived the sandbox's faults");
    }
}
