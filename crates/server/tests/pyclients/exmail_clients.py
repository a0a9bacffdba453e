#!/usr/bin/env python3
"""Runs the two public PyPI clients of Exmail's newer API, unchanged, against bizmail.

X = exmail-sdk 1.0.0 (package `exmail`), T = TencentExmail 0.1.2 (package `tencent_exmail`); contract:
EXMAIL_API.md (§6 says how each is pointed at another base URL). One scenario per library, with fresh
random names, so both (and repeated runs) can share one tenant. One line per check; `OK <n> checks` at the
end; the first failure prints what was expected and what came, and exits 1.

Environment: BIZMAIL_CGI (http://127.0.0.1:PORT/cgi-bin), BIZMAIL_WEB (http://127.0.0.1:PORT), BIZMAIL_CORPID,
BIZMAIL_DOMAIN, BIZMAIL_SECRET_{DIRECTORY,SSO,MAIL,LOG,OPTION}. Standard library + the two packages only.
"""
import datetime
import os
import random
import re
import secrets
import socket
import sys
import traceback
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT = 30
socket.setdefaulttimeout(TIMEOUT)

import requests  # noqa: E402  (both libraries' transport)
import requests.adapters  # noqa: E402

# Neither library sets a timeout, and requests turns `timeout=None` into a blocking socket that ignores
# socket.setdefaulttimeout: give every request that has none the same 30 s, so a hung server fails the run.
_send = requests.adapters.HTTPAdapter.send


def _send_with_timeout(self, request, **kwargs):
    if kwargs.get("timeout") is None:
        kwargs["timeout"] = TIMEOUT
    return _send(self, request, **kwargs)


requests.adapters.HTTPAdapter.send = _send_with_timeout

from exmail import EmailClientException, SecretClient  # noqa: E402
import tencent_exmail.ContactManagement.DepartmentMangement as t_dept_mod  # noqa: E402
import tencent_exmail.ContactManagement.GroupManagement as t_group_mod  # noqa: E402
import tencent_exmail.ContactManagement.UserManagement as t_user_mod  # noqa: E402
import tencent_exmail.FunctionSetting.FunctionAttribute as t_func_mod  # noqa: E402
import tencent_exmail.Initiative.get_access_token as t_token_mod  # noqa: E402
import tencent_exmail.Login.LoginMail as t_login_mod  # noqa: E402
import tencent_exmail.NewMailNotification.GetMailUnread as t_unread_mod  # noqa: E402
import tencent_exmail.SystemLog.CheckBatchJob as t_batch_mod  # noqa: E402
import tencent_exmail.SystemLog.CheckMail as t_mail_mod  # noqa: E402
import tencent_exmail.SystemLog.CheckMailInfo as t_mailinfo_mod  # noqa: E402
import tencent_exmail.SystemLog.CheckOperationLog as t_oplog_mod  # noqa: E402
import tencent_exmail.SystemLog.CheckUserLogin as t_userlogin_mod  # noqa: E402


def env(name):
    value = os.environ.get(name, "")
    if not value:
        print(f"FAIL environment: {name} is not set")
        sys.exit(1)
    return value


CGI = env("BIZMAIL_CGI").rstrip("/")
WEB = env("BIZMAIL_WEB").rstrip("/")
CORPID = env("BIZMAIL_CORPID")
DOMAIN = env("BIZMAIL_DOMAIN")
SECRET = {app: env("BIZMAIL_SECRET_" + app.upper()) for app in ("directory", "sso", "mail", "log", "option")}
LOGIN_PREFIX = WEB + "/cgi-bin/login?fun=bizopenssologin&method=openapi&userid="
# Talk to the server directly even if the environment names a proxy.
_hosts = {urllib.parse.urlsplit(u).hostname for u in (CGI, WEB)}
for _var in ("NO_PROXY", "no_proxy"):
    os.environ[_var] = ",".join(filter(None, [os.environ.get(_var, "")] + sorted(_hosts)))

# Log queries span yesterday..tomorrow, so the tenant's time zone cannot push today's writes out of range.
_today = datetime.date.today()
BEGIN = (_today - datetime.timedelta(days=1)).isoformat()
END = (_today + datetime.timedelta(days=1)).isoformat()
DATES = {"begin_date": BEGIN, "end_date": END}

# ---------------------------------------------------------------------------------------------- checks
CHECKS = 0
SCENARIO = "-"


class CheckFailed(Exception):
    def __init__(self, desc, expected, got):
        super().__init__(desc)
        self.desc, self.expected, self.got = desc, expected, got


def ok(desc):
    global CHECKS
    CHECKS += 1
    print(f"ok {CHECKS:3d} [{SCENARIO}] {desc}", flush=True)


def fail(desc, expected, got):
    raise CheckFailed(f"[{SCENARIO}] {desc}", expected, got)


def expect(desc, got, want):
    if got != want:
        fail(desc, want, got)
    ok(desc)
    return got


def expect_true(desc, cond, got, want):
    if not cond:
        fail(desc, want, got)
    ok(desc)
    return got


def is_id(v, low=2):
    return type(v) is int and low <= v < 2**53


def expect_id(desc, v, low=2):
    return expect_true(desc, is_id(v, low), v, f"an int in [{low}, 2**53)")


def fields(desc, obj, want):
    """Every key in `want` is in `obj` with that value (lists given as set() compare in any order)."""
    if not isinstance(obj, dict):
        fail(desc, want, obj)
    for key, value in want.items():
        if key not in obj:
            fail(f"{desc}: key {key!r}", value, obj)
        got = obj[key]
        if isinstance(value, set):
            got = set(got) if isinstance(got, list) else got
        if got != value:
            fail(f"{desc}: {key}", value, obj)
    ok(desc)
    return obj


def find(items, key, value):
    if not isinstance(items, list):
        return None
    for item in items:
        if isinstance(item, dict) and item.get(key) == value:
            return item
    return None


def expect_found(desc, items, key, value):
    item = find(items, key, value)
    if item is None:
        fail(desc, f"an entry with {key}={value!r}", items)
    ok(desc)
    return item


def expect_absent(desc, items, key, value):
    if not isinstance(items, list) or find(items, key, value) is not None:
        fail(desc, f"a list without {key}={value!r}", items)
    ok(desc)


def x_err(desc, code, fn, *args):
    """An X call must raise EmailClientException carrying `code`."""
    try:
        got = fn(*args)
    except EmailClientException as e:
        return expect(desc, e.errcode, code)
    fail(desc, f"EmailClientException errcode {code}", got)


def t_res(desc, res, errcode=0, errmsg=None):
    """A T answer (T returns the JSON as a dict): errcode a number equal to `errcode`, errmsg present."""
    if not isinstance(res, dict) or type(res.get("errcode")) is not int or "errmsg" not in res:
        fail(desc + " (errcode a number, errmsg present)", {"errcode": errcode, "errmsg": errmsg or "…"}, res)
    if res["errcode"] != errcode or (errmsg is not None and res["errmsg"] != errmsg):
        fail(desc, {"errcode": errcode, "errmsg": errmsg or "…"}, res)
    ok(desc)
    return res


def expect_list_entries(desc, lst, keys, nonempty=False):
    if not isinstance(lst, list) or (nonempty and not lst):
        fail(desc, "a non-empty list" if nonempty else "a list", lst)
    for entry in lst:
        if not isinstance(entry, dict) or not set(keys) <= set(entry):
            fail(desc, f"entries with keys {sorted(keys)}", entry)
    ok(desc)
    return lst


# ------------------------------------------------------------------------------------------ raw HTTP
RAW = requests.Session()


def raw(method, path, token=None, params=None, body=None):
    """A request outside both libraries; checks the transport rules of §1 and returns the JSON object."""
    query = dict(params or {})
    if token is not None:
        query["access_token"] = token
    r = RAW.request(method, CGI + path, params=query, json=body, timeout=TIMEOUT)
    where = f"{method} {path}"
    if r.status_code != 200:
        fail(f"{where}: HTTP status", 200, f"{r.status_code} {r.text[:300]}")
    ctype = r.headers.get("content-type", "")
    if not ctype.startswith("application/json"):
        fail(f"{where}: content-type", "application/json; charset=utf-8", ctype)
    data = r.json()
    if not isinstance(data, dict) or type(data.get("errcode")) is not int or "errmsg" not in data:
        fail(f"{where}: a JSON object with a numeric errcode and an errmsg", "{errcode: n, errmsg: …}", data)
    return data


def gettoken(secret, corpid=None):
    return raw("GET", "/gettoken", params={"corpid": corpid or CORPID, "corpsecret": secret})


def token_for(app):
    data = gettoken(SECRET[app])
    if data["errcode"] != 0:
        fail(f"gettoken for the {app} application", 0, data)
    return data["access_token"]


# ------------------------------------------------------------------------------------------ SSO follow
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def _open(url):
    try:
        with _OPENER.open(url, timeout=TIMEOUT) as r:
            return r.status, r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.headers


def query_value(url, name):
    """The raw query value, percent-decoded without turning `+` into a space (§1)."""
    for part in urllib.parse.urlsplit(url).query.split("&"):
        key, _, value = part.partition("=")
        if key == name:
            return urllib.parse.unquote(value)
    return None


def check_login_url(desc, res, userid):
    url = res.get("login_url")
    expect_true(f"{desc}: login_url on this server's web host", isinstance(url, str) and url.startswith(LOGIN_PREFIX),
                url, LOGIN_PREFIX + "…")
    expect(f"{desc}: login_url names the member", query_value(url, "userid"), userid)
    key = query_value(url, "authkey")
    expect_true(f"{desc}: login_url carries an authkey", bool(key), url, "a non-empty authkey")
    expect(f"{desc}: expires_in", res.get("expires_in"), 300)
    status, headers = _open(url)
    expect_true(f"{desc}: first use of the login_url answers 2xx/3xx", 200 <= status < 400, status, "2xx or 3xx")
    if 300 <= status < 400:
        expect_true(f"{desc}: the redirect has a Location", bool(headers.get("Location")), dict(headers), "Location")
    status, _ = _open(url)
    expect_true(f"{desc}: second use of the same login_url fails", status >= 400, status, "4xx (single use)")


def names(rnd, who):
    return f"{who}{rnd}@{DOMAIN}"


def password():
    return "Pw-" + secrets.token_hex(6) + "Aa9!"


def mobile():
    return "138" + "".join(random.choice("0123456789") for _ in range(8))


# ================================================================================= transport & tokens
def scenario_raw():
    global SCENARIO
    SCENARIO = "raw"
    first = gettoken(SECRET["directory"])
    fields("gettoken answers errcode 0, errmsg ok, expires_in 7200", first,
           {"errcode": 0, "errmsg": "ok", "expires_in": 7200})
    tok = first["access_token"]
    expect_true("access_token is 64-512 chars of [A-Za-z0-9_-]",
                isinstance(tok, str) and re.fullmatch(r"[A-Za-z0-9_-]{64,512}", tok) is not None, tok, "a token")
    second = token_for("directory")
    expect_true("each gettoken issues a new token", second != tok, second, "a token other than the first")
    expect("the older token stays valid", raw("GET", "/department/list", tok, {"id": 1})["errcode"], 0)
    expect("gettoken with a wrong secret: 40001", gettoken(SECRET["directory"] + "x")["errcode"], 40001)
    other = "wm" + secrets.token_hex(8)
    if other == CORPID:
        other = "wm" + "0" * 16
    expect("gettoken with an unknown corpid: 40013", gettoken(SECRET["directory"], other)["errcode"], 40013)
    expect("no access_token: 40014", raw("GET", "/department/list", params={"id": 1})["errcode"], 40014)
    expect("an unknown access_token: 40014", raw("GET", "/department/list", "A" * 86, {"id": 1})["errcode"], 40014)
    probe = f"nobody-{secrets.token_hex(4)}@{DOMAIN}"
    expect("the directory token on mail/newcount: 602005",
           raw("GET", "/mail/newcount", tok, {"userid": probe})["errcode"], 602005)
    expect("the mail token on user/get: 602005",
           raw("GET", "/user/get", token_for("mail"), {"userid": probe})["errcode"], 602005)
    expect("the log token on service/get_login_url: 602005",
           raw("GET", "/service/get_login_url", token_for("log"), {"userid": probe})["errcode"], 602005)
    expect("the sso token on useroption/get: 602005",
           raw("POST", "/useroption/get", token_for("sso"), body={"userid": probe, "type": [1]})["errcode"], 602005)
    expect("the option token on log/operation: 602005",
           raw("POST", "/log/operation", token_for("option"), body=dict(DATES, type=1))["errcode"], 602005)


# ========================================================================================== X: exmail-sdk
def x_client(app):
    return SecretClient(CORPID, SECRET[app], timeout=TIMEOUT)


def scenario_x():
    global SCENARIO
    SCENARIO = "X"
    SecretClient.API_BASE_URL = CGI  # exmail/client/base.py:23, read per request at :41
    rnd = secrets.token_hex(3)
    d = x_client("directory")
    fields("get_access_token", d.get_access_token(), {"errcode": 0, "expires_in": 7200})
    expect_true("access_token property", isinstance(d.access_token, str) and len(d.access_token) >= 64,
                d.access_token, "a token")

    # --- departments
    name_a, name_b, name_c = f"xdept{rnd}-alpha", f"xdept{rnd}-beta", f"xdept{rnd}-gamma"
    order_a, order_b, order_c = (random.randint(20000, 900000) for _ in range(3))
    r = fields("department.create (root child)", d.department.create({"name": name_a, "parentid": 1, "order": order_a}),
               {"errcode": 0, "errmsg": "created"})
    id_a = expect_id("department.create id", r.get("id"))
    id_b = expect_id("department.create (grandchild) id",
                     d.department.create({"name": name_b, "parentid": id_a, "order": order_b}).get("id"))
    id_c = expect_id("department.create (second root child) id",
                     d.department.create({"name": name_c, "parentid": 1, "order": order_c}).get("id"))
    expect_true("three distinct department ids", len({id_a, id_b, id_c}) == 3, (id_a, id_b, id_c), "distinct")
    x_err("department.create with a sibling's name: 60008", 60008, d.department.create,
          {"name": name_a, "parentid": 1, "order": 0})
    x_err("department.create under an unknown parent: 60004", 60004, d.department.create,
          {"name": f"xdept{rnd}-orphan", "parentid": 2**53 - 1})
    top = d.department.list()["department"]
    fields("department.list() shows the new department", expect_found("department.list() has it", top, "id", id_a),
           {"name": name_a, "parentid": 1, "order": order_a})
    sub = d.department.list(id_a)["department"]
    fields("department.list(id) shows the child", expect_found("department.list(id) has the child", sub, "id", id_b),
           {"name": name_b, "parentid": id_a, "order": order_b})
    orders = [dep.get("order") for dep in top]
    expect_true("department.list is sorted by order", orders == sorted(orders), orders, "non-decreasing orders")
    name_a2, order_a2 = f"xdept{rnd}-alpha2", random.randint(20000, 900000)
    fields("department.update name+order", d.department.update({"id": id_a, "name": name_a2, "order": order_a2}),
           {"errcode": 0, "errmsg": "updated"})
    fields("department.list reflects the update", find(d.department.list()["department"], "id", id_a),
           {"name": name_a2, "parentid": 1, "order": order_a2})
    d.department.update({"id": id_b, "parentid": id_c})
    fields("department.update parentid moves it (name, order unchanged)",
           find(d.department.list(id_c)["department"], "id", id_b),
           {"name": name_b, "parentid": id_c, "order": order_b})
    d.department.update({"id": id_b, "parentid": id_a})
    fields("department.update moves it back", find(d.department.list(id_a)["department"], "id", id_b),
           {"parentid": id_a})
    x_err("department.update under its own child: 60010", 60010, d.department.update, {"id": id_a, "parentid": id_b})
    hits = d.department.search(name_a2)["department"]
    fields("department.search exact: path is the name", expect_found("department.search exact", hits, "id", id_a),
           {"name": name_a2, "parentid": 1, "order": order_a2, "path": name_a2})
    fields("department.search: a child's path joins names with /",
           find(d.department.search(name_b)["department"], "id", id_b), {"path": f"{name_a2}/{name_b}"})
    expect_found("department.search fuzzy finds a substring",
                 d.department.search(f"{rnd}-alpha", True)["department"], "id", id_a)
    expect_found("department.search non-fuzzy finds a prefix",
                 d.department.search(f"xdept{rnd}-alp")["department"], "id", id_a)

    # --- users
    ann, bob, alias = names(rnd, "xann"), names(rnd, "xbob"), names(rnd, "xann.alias")
    ann_fields = {"userid": ann, "name": f"Ann X{rnd}", "department": [id_a], "position": "Engineer",
                  "mobile": mobile(), "tel": "010-" + str(random.randint(10**7, 10**8 - 1)), "extid": f"E{rnd}",
                  "gender": "1", "slaves": [alias], "cpwd_login": 0}
    fields("user.create (every field)", d.user.create(dict(ann_fields, password=password())),
           {"errcode": 0, "errmsg": "created"})
    fields("user.create (required fields only)",
           d.user.create({"userid": bob, "name": f"Bob X{rnd}", "department": [id_b], "password": password(),
                          "gender": "2"}), {"errcode": 0, "errmsg": "created"})
    fields("user.get returns what was set, enable 1", d.user.get(ann), dict(ann_fields, enable=1))
    fields("user.get of a minimal member: every key, empty values", d.user.get(bob),
           {"userid": bob, "department": [id_b], "position": "", "mobile": "", "tel": "", "extid": "",
            "gender": "2", "enable": 1, "slaves": [], "cpwd_login": 0})
    fields("user.get by alias finds the member", d.user.get(alias), {"userid": ann})
    x_err("user.create of an existing userid: 60102", 60102, d.user.create,
          {"userid": ann, "name": "dup", "department": [id_a], "password": password()})
    x_err("user.create without department: 60127", 60127, d.user.create,
          {"userid": names(rnd, "xnodept"), "name": "x", "password": password()})
    x_err("user.get of an unknown member: 60111", 60111, d.user.get, names(rnd, "xnobody"))
    fields("user.update name, position, enable 0",
           d.user.update({"userid": bob, "name": f"Bob Renamed {rnd}", "position": "Ops", "enable": 0}),
           {"errcode": 0, "errmsg": "updated"})
    fields("user.get after update (absent fields unchanged)", d.user.get(bob),
           {"name": f"Bob Renamed {rnd}", "position": "Ops", "enable": 0, "department": [id_b], "gender": "2"})
    d.user.update({"userid": bob, "enable": 1})
    fields("user.update enable 1 re-enables", d.user.get(bob), {"enable": 1, "name": f"Bob Renamed {rnd}"})
    flat = d.user.simple_list(id_a)["userlist"]
    fields("user.simple_list(dept) has the member", expect_found("user.simple_list has ann", flat, "userid", ann),
           {"name": ann_fields["name"], "department": [id_a]})
    expect_absent("user.simple_list without fetch_child omits sub-departments", flat, "userid", bob)
    deep = d.user.simple_list(id_a, True)["userlist"]
    expect_found("user.simple_list fetch_child has the parent's member", deep, "userid", ann)
    fields("user.simple_list fetch_child has the child's member",
           expect_found("user.simple_list fetch_child has bob", deep, "userid", bob), {"department": [id_b]})
    detail = d.user.list(id_a, True)["userlist"]
    fields("user.list fetch_child: details", expect_found("user.list has ann", detail, "userid", ann),
           dict(ann_fields, enable=1))
    expect_found("user.list fetch_child has the child's member", detail, "userid", bob)
    expect_absent("user.list without fetch_child omits sub-departments", d.user.list(id_a)["userlist"], "userid", bob)

    # --- groups
    team, crew = names(rnd, "xteam"), names(rnd, "xcrew")
    team_fields = {"groupid": team, "groupname": f"Team X{rnd}", "userlist": [ann], "grouplist": [],
                   "department": [id_b], "allow_type": 3, "allow_userlist": [ann]}
    fields("group.create (users, department, allow list)", d.group.create(dict(team_fields)),
           {"errcode": 0, "errmsg": "created"})
    fields("group.get returns what was set", d.group.get(team), team_fields)
    d.group.create({"groupid": crew, "groupname": f"Crew X{rnd}", "grouplist": [team], "allow_type": 0})
    fields("group.create with a grouplist; group.get shows it", d.group.get(crew),
           {"grouplist": [team], "userlist": [], "department": [], "allow_type": 0})
    x_err("group.create without members: 600009", 600009, d.group.create,
          {"groupid": names(rnd, "xempty"), "groupname": "empty", "allow_type": 0})
    x_err("group.create of an existing group: 600015", 600015, d.group.create, dict(team_fields))
    fields("group.update name, users, allow_type",
           d.group.update({"groupid": team, "groupname": f"Team Renamed {rnd}", "userlist": [ann, bob],
                           "allow_type": 1}), {"errcode": 0, "errmsg": "updated"})
    fields("group.get after update (department unchanged)", d.group.get(team),
           {"groupname": f"Team Renamed {rnd}", "userlist": {ann, bob}, "department": [id_b], "allow_type": 1})

    # --- batchcheck (member, alias, group, free, invalid)
    free = names(rnd, "xfree")
    checked = d.user.batch_check([ann, alias, team, free, "not-an-address"])["list"]
    for who, kind, what in ((ann, 1, "member"), (alias, 2, "alias"), (team, 3, "group"), (free, 0, "free"),
                            ("not-an-address", -1, "invalid")):
        fields(f"user.batch_check: {what} is type {kind}",
               expect_found(f"user.batch_check lists the {what}", checked, "user", who), {"type": kind})
    x_err("user.batch_check of 21 addresses: 600027", 600027, d.user.batch_check,
          [names(rnd, f"xb{i}-") for i in range(21)])

    # --- tags
    tag1, tag2, tag1b = f"xtag{rnd}a", f"xtag{rnd}b", f"xtag{rnd}a2"
    r = fields("tag.create", d.tag.create({"tagname": tag1}), {"errcode": 0, "errmsg": "created"})
    tid = expect_id("tag.create tagid", r.get("tagid"), low=0)
    chosen = random.randint(10**6, 10**9)
    expect("tag.create with a chosen tagid", d.tag.create({"tagname": tag2, "tagid": chosen}).get("tagid"), chosen)
    x_err("tag.create with a taken name: 60204", 60204, d.tag.create, {"tagname": tag2})
    fields("tag.update", d.tag.update({"tagid": tid, "tagname": tag1b}), {"errcode": 0, "errmsg": "updated"})
    tags = d.tag.list()["taglist"]
    fields("tag.list has the renamed tag", expect_found("tag.list has the tag", tags, "tagid", tid), {"tagname": tag1b})
    expect_found("tag.list has the chosen tagid", tags, "tagid", chosen)
    r = d.tag.add_tag_users({"tagid": tid, "userlist": [ann], "partylist": [id_b]})
    expect_true("tag.add_tag_users all valid: errcode 0, no invalid entries",
                r.get("errcode") == 0 and not r.get("invalidlist") and not r.get("invalidparty"), r, "no invalids")
    ghost = names(rnd, "xghost")
    r = d.tag.add_tag_users({"tagid": tid, "userlist": [bob, ghost]})
    fields("tag.add_tag_users partly invalid: errcode 0, invalidlist a string", r,
           {"errcode": 0, "invalidlist": ghost})
    x_err("tag.add_tag_users all invalid: 60205", 60205, d.tag.add_tag_users, {"tagid": tid, "userlist": [ghost]})
    got = d.tag.get(tid)
    fields("tag.get: name, members, departments", got, {"tagname": tag1b, "partylist": [id_b]})
    expect("tag.get userlist is [{userid,name}]",
           sorted((u.get("userid"), u.get("name")) for u in got.get("userlist", [])),
           sorted([(ann, ann_fields["name"]), (bob, f"Bob Renamed {rnd}")]))
    d.tag.del_tag_users({"tagid": tid, "userlist": [bob], "partylist": [id_b]})
    got = d.tag.get(tid)
    expect("tag.del_tag_users removed the member and the department",
           ([u.get("userid") for u in got.get("userlist", [])], got.get("partylist")), ([ann], []))
    # X's tag.delete GETs tag/update?tagid (exmail/client/api/tag.py:40-43): no tagname, 60203, nothing deleted.
    x_err("tag.delete (X's bug: GET tag/update) raises 60203", 60203, d.tag.delete, tid)
    fields("tag.delete deleted nothing", find(d.tag.list()["taglist"], "tagid", tid), {"tagname": tag1b})
    tok = d.access_token
    for t in (tid, chosen):
        expect(f"tag/delete (raw GET) of tag {t}", raw("GET", "/tag/delete", tok, {"tagid": t})["errmsg"], "deleted")
    expect_absent("tag.list no longer has it", d.tag.list()["taglist"], "tagid", tid)
    x_err("tag.get of a deleted tag: 60201", 60201, d.tag.get, tid)

    # --- new-mail count (mail application): X POSTs JSON
    m = x_client("mail")
    expect("mail.new_count of a new member is 0", m.mail.new_count({"userid": ann}).get("count"), 0)
    r = m.mail.new_count(dict(DATES, userid=ann))
    expect_true("mail.new_count with dates: an int count", type(r.get("count")) is int and r["count"] == 0, r, 0)
    x_err("mail.new_count of an unknown member: 60111", 60111, m.mail.new_count, {"userid": ghost})
    x_err("the mail application's token on user.get: 602005", 602005, m.user.get, ann)

    # --- single sign-on (sso application)
    s = x_client("sso")
    check_login_url("service.get_login_url", s.service.get_login_url(ann), ann)
    x_err("service.get_login_url of an unknown member: 60111", 60111, s.service.get_login_url, ghost)
    d.user.update({"userid": bob, "enable": 0})
    x_err("service.get_login_url of a disabled member: 60111", 60111, s.service.get_login_url, bob)
    d.user.update({"userid": bob, "enable": 1})

    # --- logs (log application)
    lg = x_client("log")
    r = lg.log.mail_status(dict(DATES, domain=DOMAIN))
    expect_true("log.mail_status: sendsum and recvsum are ints",
                type(r.get("sendsum")) is int and type(r.get("recvsum")) is int, r, "int sums")
    expect_list_entries("log.mail: a list", lg.log.mail(dict(DATES, mailtype=0)).get("list"),
                        ["mailtype", "subject", "sender", "receiver", "time", "status"])
    expect_list_entries("log.login: a list", lg.log.login(dict(DATES, userid=ann)).get("list"), ["time", "ip", "type"])
    expect_list_entries("log.batch_job: a list", lg.log.batch_job(dict(DATES)).get("list"),
                        ["time", "operator", "type", "status"])
    expect_list_entries("log.operation (type 1, all): entries after the writes",
                        lg.log.operation(dict(DATES, type=1)).get("list"),
                        ["time", "operator", "type", "operand", "remark"], nonempty=True)
    x_err("log.operation with begin after end: 601001", 601001, lg.log.operation,
          {"type": 1, "begin_date": END, "end_date": BEGIN})

    # --- function settings (option application)
    o = x_client("option")
    opts = o.option.get({"userid": ann, "type": [1, 2, 3, 4]}).get("option")
    if not isinstance(opts, list) or sorted(e.get("type") for e in opts) != [1, 2, 3, 4] or \
            any(e.get("value") not in ("0", "1") for e in opts):
        fail("option.get: types 1-4, values the strings \"0\"/\"1\"", "[{type:1,value:\"0\"},…]", opts)
    ok("option.get: types 1-4, values the strings \"0\"/\"1\"")
    before = {e["type"]: e["value"] for e in opts}
    flip = {t: "1" if before[t] == "0" else "0" for t in (2, 3)}
    fields("option.update",
           o.option.update({"userid": ann, "option": [{"type": t, "value": v} for t, v in flip.items()]}),
           {"errcode": 0, "errmsg": "update"})
    after = {e["type"]: e["value"] for e in o.option.get({"userid": ann, "type": [2, 3]}).get("option", [])}
    expect("option.get reflects the update", after, flip)
    x_err("option.get with type 5: 60301", 60301, o.option.get, {"userid": ann, "type": [5]})

    # --- clean up, through the delete calls
    fields("group.delete", d.group.delete(crew), {"errcode": 0, "errmsg": "deleted"})
    d.group.delete(team)
    x_err("group.get after delete: 600008", 600008, d.group.get, team)
    x_err("department.delete with members: 60005", 60005, d.department.delete, id_b)
    fields("user.delete", d.user.delete(bob), {"errcode": 0, "errmsg": "deleted"})
    d.user.delete(ann)
    x_err("user.get after delete: 60111", 60111, d.user.get, ann)
    x_err("department.delete with a child: 60006", 60006, d.department.delete, id_a)
    x_err("department.delete of the root: 60007", 60007, d.department.delete, 1)
    fields("department.delete", d.department.delete(id_b), {"errcode": 0, "errmsg": "deleted"})
    d.department.delete(id_a)
    d.department.delete(id_c)
    expect_absent("department.list after delete", d.department.list()["department"], "id", id_a)


# ===================================================================================== T: TencentExmail
T_MODULES = (t_token_mod, t_unread_mod, t_login_mod, t_dept_mod, t_user_mod, t_group_mod, t_func_mod,
             t_batch_mod, t_mail_mod, t_mailinfo_mod, t_oplog_mod, t_userlogin_mod)


def patch_t():
    """§6: each module builds its URL in __init__ from its module constant API_URL."""
    for mod in T_MODULES:
        if not mod.API_URL.startswith(CGI + "/"):
            mod.API_URL = mod.API_URL.replace("https://api.exmail.qq.com/cgi-bin", CGI)
        if not mod.API_URL.startswith(CGI + "/"):
            fail(f"{mod.__name__}.API_URL points at the server", CGI + "/…", mod.API_URL)


def scenario_t():
    global SCENARIO
    SCENARIO = "T"
    from tencent_exmail.ContactManagement.DepartmentMangement import Department
    from tencent_exmail.ContactManagement.GroupManagement import Group
    from tencent_exmail.ContactManagement.UserManagement import User
    from tencent_exmail.FunctionSetting.FunctionAttribute import Function
    from tencent_exmail.Initiative.get_access_token import GetAccessToken
    from tencent_exmail.Login.LoginMail import LoginTencentExmail
    from tencent_exmail.NewMailNotification.GetMailUnread import GetUnreadMail
    from tencent_exmail.SystemLog.CheckBatchJob import GetBatchJobLog
    from tencent_exmail.SystemLog.CheckMail import GetMailInfo
    from tencent_exmail.SystemLog.CheckMailInfo import ExMailInfo
    from tencent_exmail.SystemLog.CheckOperationLog import GetOperationLog
    from tencent_exmail.SystemLog.CheckUserLogin import GetUserLoginLog

    patch_t()
    rnd = secrets.token_hex(3)

    # --- tokens: T pops errcode and errmsg on success (Initiative/get_access_token.py:45-47)
    tokens = {}
    for app in SECRET:
        res = GetAccessToken(CORPID, SECRET[app]).get_access_token()
        expect_true(f"GetAccessToken ({app}): access_token, expires_in 7200, errcode/errmsg popped",
                    isinstance(res, dict) and isinstance(res.get("access_token"), str) and
                    res.get("expires_in") == 7200 and "errcode" not in res and "errmsg" not in res, res,
                    "{access_token, expires_in: 7200}")
        tokens[app] = res["access_token"]
    t_res("GetAccessToken with a wrong secret: 40001", GetAccessToken(CORPID, "wrong").get_access_token(), 40001)
    tok = tokens["directory"]

    # --- departments
    name_a, name_b = f"tdept{rnd}-alpha", f"tdept{rnd}-beta"
    order_a, order_b = random.randint(20000, 900000), random.randint(20000, 900000)
    r = t_res("Department create", Department(tok, "create", depart_name=name_a, depart_parent_id=1,
                                              depart_order=order_a).create_depart(), errmsg="created")
    id_a = expect_id("Department create id", r.get("id"))
    id_b = expect_id("Department create (child) id",
                     Department(tok, "create", depart_name=name_b, depart_parent_id=id_a,
                                depart_order=order_b).create_depart().get("id"))
    t_res("Department create without a parent (T sends parentid \"\"): 60124",
          Department(tok, "create", depart_name=f"tdept{rnd}-orphan").create_depart(), 60124)
    r = t_res("Department list with id \"\" (= root)", Department(tok, "list").list_departs())
    fields("Department list (root) has the department", find(r.get("department"), "id", id_a),
           {"name": name_a, "parentid": 1, "order": order_a})
    r = Department(tok, "list", depart_id=str(id_a)).list_departs()
    fields("Department list(id) has the child", find(r.get("department"), "id", id_b),
           {"name": name_b, "parentid": id_a, "order": order_b})
    name_b2 = f"tdept{rnd}-beta2"
    t_res("Department update (rename only)", Department(tok, "update", depart_id=id_b,
                                                        depart_name=name_b2).update_depart(), errmsg="updated")
    fields("T rename keeps the parent (parentid \"\") and resets order to 0 (order 0 sent)",
           find(Department(tok, "list", depart_id=str(id_a)).list_departs().get("department"), "id", id_b),
           {"name": name_b2, "parentid": id_a, "order": 0})
    r = Department(tok, "search", depart_name=name_b2, depart_fuzzy=0).search_departs()
    fields("Department search exact: path", find(r.get("department"), "id", id_b), {"path": f"{name_a}/{name_b2}"})
    r = Department(tok, "search", depart_name=f"{rnd}-BETA", depart_fuzzy=1).search_departs()
    expect_found("Department search fuzzy (any case) finds a substring", r.get("department"), "id", id_b)

    # --- users: T pastes userid raw into the query; a `+` stays a `+` (§1)
    cat, dan, alias = names(rnd, "tcat"), f"tdan{rnd}+x@{DOMAIN}", names(rnd, "tcat.alias")
    cat_fields = {"userid": cat, "name": f"Cat T{rnd}", "department": [id_a], "position": "Analyst",
                  "mobile": mobile(), "tel": "021-" + str(random.randint(10**7, 10**8 - 1)), "extid": f"T{rnd}",
                  "slaves": [alias]}
    t_res("User create (every field, gender 2 as a number, cpwd_login 1)",
          User(tok, "create", password=password(), gender=2, cpwd_login=1, **cat_fields).create_user(),
          errmsg="created")
    t_res("User create (department ids as strings, the rest \"\")",
          User(tok, "create", userid=dan, name=f"Dan T{rnd}", department=[str(id_b)],
               password=password()).create_user(), errmsg="created")
    fields("User get returns what was set", t_res("User get", User(tok, "get", userid=cat).get_user()),
           dict(cat_fields, gender="2", enable=1, cpwd_login=1))
    fields("User get of a userid with + (raw in T's query)", User(tok, "get", userid=dan).get_user(),
           {"userid": dan, "department": [id_b], "position": "", "slaves": [], "enable": 1})
    t_res("User create of an existing userid: 60102",
          User(tok, "create", userid=cat, name="dup", department=[id_a], password=password()).create_user(), 60102)
    t_res("User get of an unknown member: 60111", User(tok, "get", userid=names(rnd, "tnobody")).get_user(), 60111)
    t_res("User update (name, enable 0)", User(tok, "update", userid=cat, name=f"Cat Renamed {rnd}",
                                               enable=0).update_user(), errmsg="updated")
    fields("User get after update: \"\" fields unchanged, disabled", User(tok, "get", userid=cat).get_user(),
           dict(cat_fields, name=f"Cat Renamed {rnd}", gender="2", enable=0))
    User(tok, "update", userid=cat, position="Lead").update_user()
    fields("T update without enable re-enables (enable defaults to 1)", User(tok, "get", userid=cat).get_user(),
           {"enable": 1, "position": "Lead", "name": f"Cat Renamed {rnd}", "department": [id_a]})
    r = t_res("User simplelist fetch_child 1",
              User(tok, "simplelist", department_id=str(id_a), fetch_child=1).get_department_user())
    fields("User simplelist fetch_child: parent's member", find(r.get("userlist"), "userid", cat),
           {"name": f"Cat Renamed {rnd}", "department": [id_a]})
    fields("User simplelist fetch_child: child's member", find(r.get("userlist"), "userid", dan),
           {"department": [id_b]})
    r = User(tok, "simplelist", department_id=str(id_a)).get_department_user()
    expect_found("User simplelist fetch_child 0 has the member", r.get("userlist"), "userid", cat)
    expect_absent("User simplelist fetch_child 0 omits sub-departments", r.get("userlist"), "userid", dan)
    r = t_res("User list (details) fetch_child 1",
              User(tok, "list", department_id=str(id_a), fetch_child=1).get_department_user_detail())
    fields("User list details", find(r.get("userlist"), "userid", cat),
           {"position": "Lead", "gender": "2", "enable": 1, "slaves": [alias]})
    expect_found("User list has the child's member", r.get("userlist"), "userid", dan)
    free = names(rnd, "tfree")
    r = t_res("User batchcheck", User(tok, "batchcheck", userlist=[cat, alias, dan, free]).batch_check_account())
    expect("User batchcheck types (member, alias, member, free)",
           [(find(r.get("list"), "user", u) or {}).get("type") for u in (cat, alias, dan, free)], [1, 2, 1, 0])

    # --- groups: department as a bare string, as T's own test sends it (tests/test_groupManagement.py:19)
    crew = names(rnd, "tcrew")
    t_res("Group create (department \"<id>\", allow_type 2)",
          Group(tok, "create", groupid=crew, groupname=f"Crew T{rnd}", userlist=[cat], department=str(id_b),
                allow_type=2).create_mail_group(), errmsg="created")
    fields("Group get returns what was set", t_res("Group get", Group(tok, "get", groupid=crew).get_mail_group_info()),
           {"groupid": crew, "groupname": f"Crew T{rnd}", "userlist": [cat], "department": [id_b], "allow_type": 2})
    t_res("Group update (name only)", Group(tok, "update", groupid=crew, groupname=f"Crew Renamed {rnd}")
          .update_mail_group(), errmsg="updated")
    fields("T group update resets allow_type to 0, keeps members (\"\" = not given)",
           Group(tok, "get", groupid=crew).get_mail_group_info(),
           {"groupname": f"Crew Renamed {rnd}", "allow_type": 0, "userlist": [cat], "department": [id_b]})
    # T's own test_delete_group builds Group(operation="update") and never reaches the server
    # (GroupManagement.py:111-117); the class used properly is operation="delete".
    t_res("Group delete (operation \"delete\")", Group(tok, "delete", groupid=crew).delete_mail_group(),
          errmsg="deleted")
    t_res("Group get after delete: 600008", Group(tok, "get", groupid=crew).get_mail_group_info(), 600008)

    # --- single sign-on, new-mail count, function settings
    res = t_res("LoginTencentExmail login", LoginTencentExmail(tokens["sso"], cat).login())
    check_login_url("LoginTencentExmail", res, cat)
    res = t_res("LoginTencentExmail login for a userid with +", LoginTencentExmail(tokens["sso"], dan).login())
    check_login_url("LoginTencentExmail (+)", res, dan)
    t_res("LoginTencentExmail with the directory token: 602005", LoginTencentExmail(tok, cat).login(), 602005)
    res = t_res("GetUnreadMail (GET, no dates)", GetUnreadMail(tokens["mail"], cat).get_unread_mails())
    expect_true("GetUnreadMail count is the int 0", type(res.get("count")) is int and res["count"] == 0, res, 0)
    res = GetUnreadMail(tokens["mail"], dan).get_unread_mails()
    expect("GetUnreadMail for a userid with +", (res.get("errcode"), res.get("count")), (0, 0))
    t_res("GetUnreadMail of an unknown member: 60111",
          GetUnreadMail(tokens["mail"], names(rnd, "tnobody")).get_unread_mails(), 60111)
    opt = tokens["option"]
    res = t_res("Function get", Function(opt, "get", cat, function_type=[1, 2, 3, 4]).get_function_attribute())
    before = {e.get("type"): e.get("value") for e in res.get("option", [])}
    expect_true("Function get: types 1-4 with string values \"0\"/\"1\"",
                sorted(before) == [1, 2, 3, 4] and all(v in ("0", "1") for v in before.values()), res, "4 options")
    flip = {t: "1" if before[t] == "0" else "0" for t in (1, 2, 3)}
    t_res("Function update (types 1-3)",
          Function(opt, "update", cat, option=[{"type": t, "value": v} for t, v in flip.items()])
          .update_function_attribute(), errmsg="update")
    res = Function(opt, "get", cat, function_type=[1, 2, 3]).get_function_attribute()
    expect("Function get reflects the update", {e.get("type"): e.get("value") for e in res.get("option", [])}, flip)
    t_res("Function update with type 9: 60301",
          Function(opt, "update", cat, option=[{"type": 9, "value": "1"}]).update_function_attribute(), 60301)
    Function(opt, "update", cat, option=[{"type": 1, "value": before[1]}]).update_function_attribute()

    # --- logs: every SystemLog class
    lg = tokens["log"]
    res = t_res("ExMailInfo (log/mailstatus)", ExMailInfo(lg, DOMAIN, BEGIN, END).check())
    expect_true("ExMailInfo: int sums", type(res.get("sendsum")) is int and type(res.get("recvsum")) is int,
                res, "int sendsum, recvsum")
    t_res("ExMailInfo for a domain not the tenant's: 601004",
          ExMailInfo(lg, f"t{rnd}.invalid", BEGIN, END).check(), 601004)
    res = t_res("GetMailInfo (userid \"\", subject \"\" = no filter)", GetMailInfo(lg, BEGIN, END).check())
    expect_list_entries("GetMailInfo: a list", res.get("list"), ["mailtype", "subject", "sender", "receiver"])
    res = t_res("GetMailInfo filtered", GetMailInfo(lg, BEGIN, END, mail_type=1, userid=cat, subject="x").check())
    expect_list_entries("GetMailInfo filtered: a list", res.get("list"), ["time", "status"])
    res = t_res("GetUserLoginLog", GetUserLoginLog(lg, cat, BEGIN, END).check())
    expect_list_entries("GetUserLoginLog: a list", res.get("list"), ["time", "ip", "type"])
    res = t_res("GetBatchJobLog", GetBatchJobLog(lg, BEGIN, END).check())
    expect_list_entries("GetBatchJobLog: a list", res.get("list"), ["time", "operator", "type", "status"])
    res = t_res("GetOperationLog (type 1)", GetOperationLog(lg, BEGIN, END).check())
    expect_list_entries("GetOperationLog: entries after the writes", res.get("list"),
                        ["time", "operator", "type", "operand", "remark"], nonempty=True)
    res = t_res("GetOperationLog (type 8, members and groups)", GetOperationLog(lg, BEGIN, END, 8).check())
    expect_list_entries("GetOperationLog type 8: a list", res.get("list"), ["time", "operator", "type"])
    t_res("GetOperationLog with type 99: 601006", GetOperationLog(lg, BEGIN, END, 99).check(), 601006)
    t_res("GetBatchJobLog with a malformed date: 601001", GetBatchJobLog(lg, "2016-13-45", END).check(), 601001)

    # --- clean up, through the delete calls
    t_res("Department delete with members: 60005", Department(tok, "delete", depart_id=id_b).delete_depart(), 60005)
    for u in (cat, dan):
        t_res(f"User delete {u}", User(tok, "delete", userid=u).delete_user(), errmsg="deleted")
    t_res("User get after delete: 60111", User(tok, "get", userid=dan).get_user(), 60111)
    t_res("Department delete with a child: 60006", Department(tok, "delete", depart_id=id_a).delete_depart(), 60006)
    t_res("Department delete (child)", Department(tok, "delete", depart_id=id_b).delete_depart(), errmsg="deleted")
    t_res("Department delete", Department(tok, "delete", depart_id=id_a).delete_depart(), errmsg="deleted")
    t_res("Department update of a deleted id: 60003",
          Department(tok, "update", depart_id=id_a, depart_name=f"tdept{rnd}-gone").update_depart(), 60003)


def main():
    try:
        scenario_raw()
        scenario_x()
        scenario_t()
    except CheckFailed as e:
        print(f"FAIL {e.desc}\n  expected: {e.expected!r}\n  got:      {e.got!r}", flush=True)
        return 1
    except Exception:  # an exception from a library or the transport: the step that raised it failed
        print(f"FAIL [{SCENARIO}] after {CHECKS} checks: unexpected exception", flush=True)
        traceback.print_exc(file=sys.stdout)
        return 1
    print(f"OK {CHECKS} checks", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
