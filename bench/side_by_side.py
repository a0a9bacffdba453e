#!/usr/bin/env python3
"""The measuring half of bench/side-by-side (the bash script starts and stops the servers).

Why a helper: timing an SMTP 250 against an IMAP `EXISTS` or an HTTP long-poll answer needs one
clock for all of them and a reader per connection, which bash cannot do well. Standard library
only (Python 3.8+), so a fresh Debian machine needs no PyPI.

Subcommands:
  free-ports N          print N free loopback ports (all bound at once, so they differ)
  wait-tcp PORT [SECS]  wait until 127.0.0.1:PORT accepts a connection
  add-member ...        create the bizmail member the load is sent to (openapi/user/sync)
  measure ...           run both measurements against both stacks and print the tables
"""

import argparse
import http.client
import imaplib
import json
import math
import os
import queue
import re
import smtplib
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

PASSWORD = "secret123"  # the member's password on both stacks (loopback only)
SENDER = "from@x"  # the envelope sender the smtp-source command uses


def log(msg):
    # Progress goes to stderr so that stdout carries only the tables.
    print(f"sbs: {msg}", file=sys.stderr, flush=True)


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def wait_tcp(port, secs):
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


# ---------------------------------------------------------------- bizmail's OpenApi over HTTP


def http_post(port, path, fields, token=None, conn=None, timeout=10):
    """POSTs a form; returns the decoded body. `conn` lets a long poll reuse its connection."""
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    c.request("POST", path, urllib.parse.urlencode(fields), headers)
    body = c.getresponse().read().decode()
    if conn is None:
        c.close()
    return body


def get_token(port, admin, key):
    # The OpenApi's client-credentials grant: client_id is the admin, client_secret the key.
    body = http_post(port, "/cgi-bin/token", {
        "grant_type": "client_credentials", "client_id": admin, "client_secret": key})
    answer = json.loads(body)
    if "access_token" not in answer:
        sys.exit(f"sbs: no token from bizmail: {body}")
    return answer["access_token"]


def add_member(port, admin, key, address):
    token = get_token(port, admin, key)
    body = http_post(port, "/openapi/user/sync", {
        "Action": "2", "Alias": address, "Name": "Bench", "Password": PASSWORD}, token)
    if body.strip():  # success is an empty body
        sys.exit(f"sbs: user/sync failed: {body}")


def polls_held(port):
    """bizmail's gauge of held `listen` polls, from /metrics (loopback may read it)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    m = re.search(r"^bizmail_listen_polls_held (\S+)", text, re.M)
    return float(m.group(1)) if m else 0.0


# ---------------------------------------------------------------- SMTP and IMAP clients


class TimedSMTP(smtplib.SMTP):
    """smtplib, noting when each reply was read: after sendmail(), the DATA's 250."""

    last_reply_at = 0.0

    def getreply(self):
        reply = super().getreply()
        self.last_reply_at = time.perf_counter()
        return reply


def message(to, subject, size):
    filler = ("The quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmn\r\n"
              * (size // 72 + 1))[:size]
    return (f"From: <{SENDER}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject}@sbs.test>\r\n\r\n{filler}\r\n").encode()


class Idler:
    """An IMAP client idling on INBOX; a thread queues (time read, N) for every `* N EXISTS`."""

    def __init__(self, port, user):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.f = self.sock.makefile("rb")
        self.f.readline()  # greeting
        self.exists = 0
        self._command(b"a", f'LOGIN "{user}" "{PASSWORD}"')
        self._command(b"b", "SELECT INBOX")
        self.sock.sendall(b"c IDLE\r\n")
        while not self._line().startswith(b"+"):
            pass
        self.sock.settimeout(None)  # the reader thread blocks until mail or close
        self.events = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _line(self):
        line = self.f.readline()
        if not line:
            raise RuntimeError("IMAP server closed the connection")
        m = re.match(rb"\* (\d+) EXISTS", line)
        if m:
            self.exists = int(m.group(1))
        return line

    def _command(self, tag, text):
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        while True:
            line = self._line()
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise RuntimeError(f"IMAP {text.split()[0]}: {line!r}")
                return

    def _read(self):
        try:
            while True:
                line = self.f.readline()
                now = time.perf_counter()  # stamped before any parsing
                if not line:
                    break
                m = re.match(rb"\* (\d+) EXISTS", line)
                if m:
                    self.events.put((now, int(m.group(1))))
        except OSError:
            pass

    def wait_above(self, n, secs=30):
        """The time of the first EXISTS whose count is above n, and that count."""
        deadline = time.monotonic() + secs
        while True:
            try:
                at, count = self.events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"no EXISTS above {n} within {secs} s") from None
            if count > n:
                return at, count

    def close(self):
        try:
            self.sock.sendall(b"DONE\r\nz LOGOUT\r\n")
            self.sock.close()
        except OSError:
            pass


def imap_count(port, user):
    """INBOX's message count, by STATUS (bizmail's own answer to "how many are stored")."""
    c = imaplib.IMAP4("127.0.0.1", port)
    c.login(user, PASSWORD)
    _, data = c.status("INBOX", "(MESSAGES)")
    c.logout()
    return int(re.search(rb"MESSAGES (\d+)", data[0]).group(1))


def maildir_count(maildir):
    """Files in new/ and cur/: a Maildir message exists once renamed out of tmp/."""
    n = 0
    for sub in ("new", "cur"):
        try:
            n += len(os.listdir(os.path.join(maildir, sub)))
        except FileNotFoundError:
            pass
    return n


# ---------------------------------------------------------------- measurement 1: ingest


def ingest(label, smtp_port, rcpt, count, poll_during, a):
    """smtp-source's load; returns (seconds to the last 250, seconds until all are stored).

    poll_during: whether counting is cheap enough to do while the load runs (a directory
    listing is; an IMAP login to the server under load would disturb it, and bizmail answers
    250 only after the commit, so its count is checked once the load is done)."""
    before = count()
    cmd = ["smtp-source", "-s", str(a.sessions), "-l", str(a.size), "-m", str(a.messages),
           "-f", SENDER, "-t", rcpt, f"127.0.0.1:{smtp_port}"]
    log(f"{label}: {' '.join(cmd)}")
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    accepted = stored = None
    last_change, last_seen = time.monotonic(), -1
    while stored is None:
        if accepted is None and proc.poll() is not None:
            accepted = time.perf_counter() - start
            if proc.returncode != 0:
                sys.exit(f"sbs: smtp-source against {label} failed: {proc.stdout.read().decode()}")
        if accepted is not None or poll_during:
            seen = count() - before
            if seen >= a.messages:
                stored = time.perf_counter() - start
                break
            if seen != last_seen:
                last_seen, last_change = seen, time.monotonic()
            elif accepted is not None and time.monotonic() - last_change > 120:
                sys.exit(f"sbs: {label}: only {seen} of {a.messages} stored, none for 120 s")
        time.sleep(0.02)
    if accepted is None:  # every message stored before smtp-source even exited
        proc.wait()
        accepted = time.perf_counter() - start
    stored = max(stored, accepted)  # stored, for this purpose, only once its 250 was read
    log(f"{label}: last 250 after {accepted:.2f} s, all {a.messages} stored after {stored:.2f} s")
    return accepted, stored


# ---------------------------------------------------------------- measurement 2: 250 -> notice


def idle_rounds(label, smtp_port, imap_port, rcpt, a, maildir=None):
    """Per round: one mail by SMTP, ms from its DATA 250 to the idling client's EXISTS.

    With maildir, also ms from the 250 to the message's file in new/ (Postfix's queue and LMTP
    delivery, apart from Dovecot's own wait before it tells the idling client). new/ stays
    near-empty, since Dovecot's IMAP session moves what it has announced to cur/.
    Returns (notice ms, stored ms or None, INBOX size when the rounds started)."""
    log(f"{label}: {a.rounds} rounds, 250 -> IMAP IDLE EXISTS")
    idler = Idler(imap_port, rcpt)
    inbox = idler.exists
    smtp = TimedSMTP("127.0.0.1", smtp_port)
    smtp.ehlo("sbs.test")
    last, lat, stored = idler.exists, [], []
    for i in range(a.rounds):
        seen = {}
        if maildir:
            new = os.path.join(maildir, "new")
            before = set(os.listdir(new))

            def watch():
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    if any(n not in before for n in os.listdir(new)):
                        seen["at"] = time.perf_counter()
                        return
                    time.sleep(0.0005)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
        smtp.sendmail(SENDER, [rcpt], message(rcpt, f"idle-{smtp_port}-{i}", a.size))
        t250 = smtp.last_reply_at
        at, last = idler.wait_above(last)
        lat.append((at - t250) * 1000)
        if maildir:
            watcher.join()
            if "at" not in seen:
                sys.exit(f"sbs: {label}: round {i}'s file never showed in {new}")
            stored.append((seen["at"] - t250) * 1000)
        time.sleep(0.01)  # let both sides settle: rounds are independent
    smtp.quit()
    idler.close()
    return lat, (stored if maildir else None), inbox


def listen_rounds(label, http_port, smtp_port, rcpt, a):
    """Per round: a held openapi/listen poll, one mail, ms from the 250 to the poll's answer."""
    log(f"{label}: {a.rounds} rounds, 250 -> openapi/listen answer")
    # A fresh token: its cursor starts at the end of the event log, so the ingest's notices
    # are no backlog. Its first poll (Ver=0) answers at once with the directory version.
    inbox = imap_count(a.bizmail_imap, rcpt)
    token = get_token(http_port, a.admin, a.key)
    conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=120)
    ver = json.loads(http_post(http_port, "/openapi/listen", {"Ver": "0"}, token, conn))["Ver"]
    smtp = TimedSMTP("127.0.0.1", smtp_port)
    smtp.ehlo("sbs.test")
    lat, unconfirmed = [], 0
    for i in range(a.rounds):
        subject, got = f"listen-{i}", {}

        def poll():
            nonlocal ver
            while True:  # skip anything but this round's mail ({"Ret":0}, a Ver change)
                body = http_post(http_port, "/openapi/listen", {"Ver": ver}, token, conn)
                at, answer = time.perf_counter(), json.loads(body)
                if "errcode" in answer:
                    got["error"] = body
                    return
                if "MailId" not in answer and "Ver" in answer:
                    ver = answer["Ver"]
                if answer.get("Subject") == subject:
                    got["at"] = at
                    return

        t = threading.Thread(target=poll, daemon=True)
        t.start()
        # Send only once the poll is held, so the time is the push's, not the poll's arrival.
        deadline = time.monotonic() + 2
        while polls_held(http_port) < 1:
            if time.monotonic() > deadline:
                unconfirmed += 1
                break
            time.sleep(0.001)
        smtp.sendmail(SENDER, [rcpt], message(rcpt, subject, a.size))
        t250 = smtp.last_reply_at
        t.join(90)
        if "at" not in got:
            sys.exit(f"sbs: listen gave no notice for round {i}: {got.get('error', 'timeout')}")
        lat.append((got["at"] - t250) * 1000)
        time.sleep(0.01)
    smtp.quit()
    if unconfirmed:
        log(f"{label}: {unconfirmed} rounds sent without seeing the poll held in /metrics")
    return lat, None, inbox


# ---------------------------------------------------------------- report


def pct(values, p):
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def measure(a):
    maildir = os.path.join(a.dovecot_mail, a.postfix_rcpt)
    biz_ingest = ingest("bizmail", a.bizmail_smtp, a.bizmail_rcpt,
                        lambda: imap_count(a.bizmail_imap, a.bizmail_rcpt), False, a)
    pf_ingest = ingest("postfix+dovecot", a.postfix_smtp, a.postfix_rcpt,
                       lambda: maildir_count(maildir), True, a)
    biz_idle = idle_rounds("bizmail", a.bizmail_smtp, a.bizmail_imap, a.bizmail_rcpt, a)
    biz_listen = listen_rounds("bizmail", a.bizmail_http, a.bizmail_smtp, a.bizmail_rcpt, a)
    dove_idle, pf_stored, dove_inbox = idle_rounds(
        "postfix+dovecot", a.postfix_smtp, a.dovecot_imap, a.postfix_rcpt, a, maildir)
    rows = [  # (what, INBOX size when the rounds started, ms per round)
        ("bizmail: IMAP IDLE `EXISTS`", biz_idle[2], biz_idle[0]),
        ("bizmail: `openapi/listen` answer", biz_listen[2], biz_listen[0]),
        ("Postfix → LMTP → Dovecot: IMAP IDLE `EXISTS`", dove_inbox, dove_idle),
        ("(Postfix → LMTP: file in the Maildir's new/)", dove_inbox, pf_stored),
    ]

    n = a.messages
    print(f"\n### Ingest to stored: smtp-source -s {a.sessions} -l {a.size} -m {n}\n")
    print("| server | last 250 (s) | all stored (s) | stored msg/s |")
    print("|---|---:|---:|---:|")
    for name, (acc, sto) in [(f"bizmail ({a.backend})", biz_ingest),
                             ("Postfix → LMTP → Dovecot", pf_ingest)]:
        print(f"| {name} | {acc:.2f} | {sto:.2f} | {n / sto:.0f} |")
    print(f"\n### SMTP 250 → the client's notice: {a.rounds} rounds of one {a.size}-byte mail\n")
    print("| notice | INBOX at start | median ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for name, inbox, v in rows:
        print(f"| {name} | {inbox} | {statistics.median(v):.1f} | {pct(v, 99):.1f} "
              f"| {max(v):.1f} |")
    med = [statistics.median(v) for _, _, v in rows]
    print("\nRatios (above 1: bizmail is faster):\n")
    print(f"- ingest to stored, msg/s bizmail / Postfix+Dovecot: "
          f"{pf_ingest[1] / biz_ingest[1]:.2f}x")
    print(f"- 250 → notice, median Dovecot IDLE / bizmail IDLE: {med[2] / med[0]:.2f}x")
    print(f"- 250 → notice, median Dovecot IDLE / bizmail listen: {med[2] / med[1]:.2f}x")
    # Why Dovecot's number is what it is, so the ratio is not misread as Postfix's slowness.
    print(f"\nOf Dovecot's {med[2]:.0f} ms, Postfix's queue and LMTP delivery take {med[3]:.0f} ms; "
          "the rest is mostly Dovecot waiting\n500 ms after a change before telling idling "
          "clients (NOTIFY_DELAY_MSECS in its index-mailbox-check.c).")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("free-ports").add_argument("n", type=int)
    w = sub.add_parser("wait-tcp")
    w.add_argument("port", type=int)
    w.add_argument("secs", type=float, nargs="?", default=20)
    m = sub.add_parser("add-member")
    for name in ("http", "admin", "key", "address"):
        m.add_argument(f"--{name}", required=True)
    me = sub.add_parser("measure")
    for name in ("messages", "sessions", "size", "rounds", "bizmail-http", "bizmail-smtp",
                 "bizmail-imap", "postfix-smtp", "dovecot-imap"):
        me.add_argument(f"--{name}", type=int, required=True)
    for name in ("admin", "key", "bizmail-rcpt", "postfix-rcpt", "dovecot-mail", "backend"):
        me.add_argument(f"--{name}", required=True)
    a = p.parse_args()
    if a.cmd == "free-ports":
        print(" ".join(map(str, free_ports(a.n))))
    elif a.cmd == "wait-tcp":
        sys.exit(0 if wait_tcp(a.port, a.secs) else 1)
    elif a.cmd == "add-member":
        add_member(int(a.http), a.admin, a.key, a.address)
    else:
        measure(a)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # the bash script stops the servers; no traceback needed
        sys.exit(130)
