#!/usr/bin/env python3
"""A worked example of testing an integration against a bizmail sandbox (docs/SANDBOX.md).

The "integration" is `OaClient`: the part of an OA system that reads members through the BizMail
OpenApi and holds `openapi/listen` for new mail. The test makes the sandbox misbehave the way the
real service does on a bad day, checks the client copes, then reads the record of what it sent.

Only Python's standard library is used. Run it against a sandbox tenant:

    BIZMAIL_URL=http://127.0.0.1:12211 BIZMAIL_ADMIN=admin BIZMAIL_KEY=<interface key> \
    BIZMAIL_SANDBOX_KEY=<control key> BIZMAIL_ALIAS=bob@example.com python3 oa_sync_test.py
"""

import http.client
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request

BASE = os.environ["BIZMAIL_URL"].rstrip("/")
ADMIN = os.environ["BIZMAIL_ADMIN"]
KEY = os.environ["BIZMAIL_KEY"]
CONTROL = os.environ["BIZMAIL_SANDBOX_KEY"]
ALIAS = os.environ["BIZMAIL_ALIAS"]


# ---- the integration under test ------------------------------------------------------------

class OaClient:
    """Reads members and waits for mail; retries what the service says to retry."""

    BUSY = "1002"       # temporarily unavailable: back off and retry
    BAD_TOKEN = "1200"  # the token is dead (expired early, say): fetch a new one

    def __init__(self):
        self.token = None
        self.token_fetches = 0

    def _post(self, path, fields, timeout=10):
        data = urllib.parse.urlencode(fields).encode()
        req = urllib.request.Request(BASE + path, data=data, method="POST")
        if self.token and path.startswith("/openapi/"):
            req.add_header("Authorization", "Bearer " + self.token)
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read().decode()
        return json.loads(body) if body else {}

    def fetch_token(self):
        answer = self._post("/cgi-bin/token", {
            "grant_type": "client_credentials", "client_id": ADMIN, "client_secret": KEY})
        self.token = answer["access_token"]
        self.token_fetches += 1

    def call(self, endpoint, fields, attempts=5):
        for attempt in range(attempts):
            if self.token is None:
                self.fetch_token()
            answer = self._post("/openapi/" + endpoint, fields)
            code = str(answer.get("errcode", "")) if isinstance(answer, dict) else ""
            if code == self.BAD_TOKEN:
                self.token = None
            elif code == self.BUSY:
                time.sleep(0.1 * 2 ** attempt)
            else:
                return answer
        raise RuntimeError(f"{endpoint}: gave up after {attempts} attempts")

    def wait_for_mail(self, ver, rounds=5):
        """Holds listen; a cut connection or an early {"Ret":0} just means: poll again."""
        for _ in range(rounds):
            try:
                answer = self.call("listen", {"ver": ver})
            except (urllib.error.URLError, http.client.HTTPException, OSError) as cut:
                print(f"  listen was cut ({type(cut).__name__}); polling again")
                continue
            if answer.get("Ret") == 0:
                print("  listen said nothing new ({\"Ret\":0}); polling again")
                continue
            return answer
        return None


# ---- the test ------------------------------------------------------------------------------

def control(method, path, body=None):
    """Calls the sandbox's control endpoint with the control key."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + "/sandbox/v1" + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + CONTROL)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read().decode())


def main():
    control("DELETE", "/record")
    # A bad day: user/get busy twice, the first two listen polls cut and answered at once,
    # and tokens that stop working after 1 second whatever expires_in says.
    control("PUT", "/faults", {
        "seed": 42,
        "token_ttl_secs": 1,
        "rules": [
            {"endpoint": "openapi/user/get", "error": 1002, "count": 2},
            {"endpoint": "openapi/listen", "cut_after_ms": 200, "count": 1},
            {"endpoint": "openapi/listen", "idle": True, "count": 1},
        ],
    })

    oa = OaClient()
    user = oa.call("user/get", {"alias": ALIAS})
    assert user["Alias"] == ALIAS, user
    print(f"user/get answered after the busy answers: {user['Name']}")

    time.sleep(1.2)  # the token dies here
    user = oa.call("user/get", {"alias": ALIAS})
    assert oa.token_fetches == 2, oa.token_fetches
    print("a token that expired early was replaced")

    # A directory change is what the poll waits for; the poll outlives the cut and the idle answer.
    ver = "1"
    notice = oa.wait_for_mail(ver)
    assert notice is not None and "Ver" in json.dumps(notice), notice
    print(f"listen answered after the faults: {json.dumps(notice)}")

    # The record: every exchange, the faults marked, no secret in it.
    har = control("GET", "/record.har")
    entries = har["log"]["entries"]
    faults = [e["_fault"] for e in entries if "_fault" in e]
    assert faults.count("error 1002") == 2, faults
    assert any(f.startswith("cut after") for f in faults), faults
    assert "idle answer" in faults, faults
    assert KEY not in json.dumps(har), "the interface key must be masked"
    for e in entries:
        r, text = e["request"], e["response"]["content"].get("text", "")
        code = json.loads(text).get("errcode") if text.startswith("{") else None
        print(f"  {r['method']} {r['url'].replace(BASE, '')} -> {e['response']['status']}"
              + (f" errcode {code}" if code else "")
              + (f"  [{e['_fault']}]" if "_fault" in e else ""))
    control("DELETE", "/faults")
    print("OK: the integration survived the sandbox's faults")


if __name__ == "__main__":
    main()
