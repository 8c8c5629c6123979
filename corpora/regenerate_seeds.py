#!/usr/bin/env python3
"""Regenerates the generated seeds of every fuzz target under corpora/<target>/.

Sources, all inside the repository:
  - the contract's example bodies written out below (so every target has seeds on its own),
  - the example bodies in tests/model/data/ (JSON files; each goes to the codec targets whose
    members it shares),
  - the golden cassettes in corpora/cassettes/*.har (their bodies, paths, queries, timestamps and
    JWTs, the cassettes themselves for the cassette reader and the redactor, and their exchanges
    for the oracle).

Generated seeds are named gen-<content hash>.<ext> and replaced on every run; hand-written seeds
(any other name) and regressions/ are never touched. No seed may hold a secret shape: a Docker
PAT or a signed JWT is rewritten to a redacted form, and the run fails if one slips through.

Usage: corpora/regenerate_seeds.py [--check]   (--check: only report whether seeds are current)
"""

import base64
import hashlib
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPORA = ROOT / "corpora"
EXAMPLES = ROOT / "tests" / "model" / "data"
CASSETTES = CORPORA / "cassettes"

# The patterns the secret hook greps for; nothing written here may match them.
SECRET_PATTERNS = [
    re.compile(r"dckr_pat_[A-Za-z0-9_-]{20,}"),
    re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
]
PAT = re.compile(r"dckr_pat_[A-Za-z0-9_-]+")
JWT = re.compile(r"(eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*)\.[A-Za-z0-9_-]*")


def redact(text):
    """Rewrites PATs and JWT signatures so no seed holds a usable secret shape."""
    text = PAT.sub("dckr_pat_REDACTED", text)
    return JWT.sub(lambda m: m.group(1) + ".sig", text)


def b64url(obj):
    raw = json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt(header, claims, signature="sig"):
    return b64url(header) + "." + b64url(claims) + "." + signature


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


UUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
UUID2 = "0b5e36a3-9f55-4c0e-9d1e-8f4c1a2b3c4d"
TOKEN = {
    "uuid": UUID, "client_id": "HUB", "creator_ip": "127.0.0.1", "creator_ua": "patrol/0.1",
    "created_at": "2021-10-12T14:37:15.697655Z", "last_used": None, "generated_by": "manual",
    "is_active": True, "token": "", "token_label": "ci deploy", "scopes": ["repo:read"],
    "expires_at": None,
}
TOKENS = [
    TOKEN,
    dict(TOKEN, token="dckr_pat_REDACTED", scopes=["repo:admin", "repo:read"],
         expires_at="2030-01-01T00:00:00Z"),
    dict(TOKEN, uuid=UUID2, is_active=False, last_used="2022-01-01T00:00:00+02:00",
         token="***", token_label="r\u00e9sum\u00e9 \U0001F600"),
    {k: v for k, v in TOKEN.items() if k not in ("scopes", "expires_at", "token")},  # A14, A1, A2
    dict(TOKEN, future_field={"nested": [1, 2.5, None]}),
    {"uuid": UUID, "is_active": True, "token_label": "min", "created_at": "2021-10-12T14:37:15Z"},
]
PAGES = [
    {"count": 3, "next": "https://hub.docker.com/v2/access-tokens?page=2&page_size=2",
     "previous": None, "active_count": 2, "results": TOKENS[:2]},
    {"count": 3, "next": None, "previous": "/v2/access-tokens?page=1&page_size=2",
     "active_count": 2, "results": TOKENS[2:3]},
    {"count": 0, "next": None, "previous": None, "active_count": 0, "results": []},
    {"count": 1, "active_count": 1, "results": [TOKENS[3]]},
]
REQUESTS = [
    {"token_label": "ci", "scopes": ["repo:read"]},
    {"token_label": "deploy", "scopes": ["repo:admin", "repo:write"],
     "expires_at": "2030-01-01T00:00:00.000Z"},
    {"token_label": "", "scopes": []},
    {"token_label": "x" * 101, "scopes": ["repo:delete"]},
    {"token_label": "renamed", "is_active": False},
    {"is_active": True},
    {},
    {"scopes": ["repo:read"], "expires_at": None},
]
AUTH = [
    {"identifier": "alice", "secret": "<<patrol:password:alice>>"},
    {"identifier": "alice", "secret": "dckr_pat_REDACTED"},
    {"access_token": jwt({"alg": "HS256", "typ": "JWT"}, {"sub": "alice"})},
]
LOGIN = [
    {"username": "alice", "password": "<<patrol:password:alice>>"},
    {"token": jwt({"alg": "HS256"}, {"sub": "alice"}), "refresh_token": "r"},
    {"detail": "Login requires 2FA", "login_2fa_token": "2fa-token"},
    {"detail": "Incorrect authentication credentials", "login_2fa_token": None},
    {"login_2fa_token": "2fa-token", "code": "246810"},
]
ACCESS = [
    {"type": "repository", "name": "alice/private-app", "actions": ["pull", "push"]},
    {"type": "repository", "name": "bob/public-lib", "actions": []},
]
REGISTRY = [
    {"token": jwt({"alg": "HS256"}, {"access": ACCESS}), "access_token": "same",
     "expires_in": 300, "issued_at": "2021-10-12T14:37:15Z"},
    {"token": "t"},
    ACCESS[0],
    {"access": ACCESS},
]
ERRORS = [
    {"message": "token not found", "errinfo": {}},
    {"detail": "Authentication credentials were not provided.", "errinfo": None},
    {"text": "bad", "errinfo": {"field": "token_label"}},
    {"fields": {"token_label": ["This field may not be blank."]}, "text": "invalid"},
    {"detail": "Not found", "message": "token not found"},
    {"errinfo": "not an object", "message": 1},
]
CLAIMS = [
    {"iss": "patrol-reference", "sub": "alice", "username": "alice", "iat": 1634049435,
     "exp": 1634050035, "jti": "j-1"},
    {"iss": "patrol-reference", "sub": "alice", "username": "alice", "iat": 1634049435,
     "exp": 1634053035, "jti": "j-2", "scope": "repo:read", "patrol:pat_uuid": UUID},
    {"iss": "patrol-reference", "sub": "alice", "aud": ["registry.docker.io"], "iat": 1,
     "exp": 301, "nbf": 1, "access": ACCESS},
    {"aud": "registry.docker.io"},
]
HEADERS = [{"alg": "HS256", "typ": "JWT"}, {"alg": "RS256", "kid": "k1"}, {"alg": "none"}]


EXCHANGES = [
    # (method, path, query, request headers, request body, status, response headers, response body)
    ("POST", "/v2/access-tokens", "", [("Authorization", "Bearer $JWT"),
                                        ("Content-Type", "application/json")],
     compact(REQUESTS[0]), 201, [("Content-Type", "application/json")],
     compact(dict(TOKEN, token="$PAT"))),
    ("GET", "/v2/access-tokens", "page=1&page_size=2", [("Authorization", "Bearer $JWT")], "",
     200, [("Content-Type", "application/json"), ("X-RateLimit-Remaining", "99")],
     compact(PAGES[0])),
    ("POST", "/v2/auth/token", "", [("Content-Type", "application/json")],
     compact({"identifier": "alice", "secret": "$PAT"}), 200, [],
     compact({"access_token": "$JWT"})),
    ("POST", "/v2/users/login", "", [], compact({"username": "alice", "password": "$PW"}), 401,
     [], compact({"detail": "Login requires 2FA", "login_2fa_token": "$JWT"})),
    ("GET", "/token", "service=registry.docker.io&scope=repository:alice/private-app:pull,push",
     [("Authorization", "Basic YWxpY2U6$PAT")], "", 200, [],
     compact({"token": "$JWT", "access_token": "$JWT", "expires_in": 300})),
    ("DELETE", "/v2/access-tokens/" + UUID, "token=$PAT", [("Cookie", "session=$PW; x=1")], "",
     204, [("Set-Cookie", "token=$JWT; Path=/")], ""),
    ("PATCH", "/v2/access-tokens/" + UUID, "", [("Authorization", "JWT $JWT")],
     "secret $PAT and $PW in free text", 400, [], "<html>$PAT</html>"),
]


def interaction_text(exchange):
    """The text form of fuzz/interaction_text.hpp."""
    method, path, query, rq_headers, rq_body, status, rs_headers, rs_body = exchange
    lines = [method + " " + path + ("?" + query if query else "")]
    lines += [name + ": " + value for name, value in rq_headers]
    lines += ["", rq_body, str(status)]
    lines += [name + ": " + value for name, value in rs_headers]
    lines += ["", rs_body]
    return "\n".join(lines)


def har(exchanges, annotations=None):
    """A cassette laid out as recorder/cassette.cpp writes it, secrets as placeholders."""
    def placeholders(text):
        return (text.replace("$PAT", "<<patrol:secret:1>>").replace("$PW", "<<patrol:password:alice>>")
                .replace("$JWT", jwt(HEADERS[0], CLAIMS[0], "<<patrol:jwt:2>>")))
    entries = []
    for method, path, query, rq_headers, rq_body, status, rs_headers, rs_body in exchanges:
        query = placeholders(query).replace("<<", "%3C%3C").replace(">>", "%3E%3E")
        request = {"method": method, "url": "http://127.0.0.1:8080" + path + ("?" + query if query else ""),
                   "httpVersion": "HTTP/1.1", "cookies": [],
                   "headers": [{"name": n, "value": placeholders(v)} for n, v in rq_headers],
                   "queryString": [], "headersSize": -1, "bodySize": len(rq_body)}
        if rq_body:
            request["postData"] = {"mimeType": "application/json", "text": placeholders(rq_body)}
        response = {"status": status, "statusText": "", "httpVersion": "HTTP/1.1", "cookies": [],
                    "headers": [{"name": n, "value": placeholders(v)} for n, v in rs_headers],
                    "content": {"size": len(rs_body), "mimeType": "application/json",
                                "text": placeholders(rs_body)},
                    "redirectURL": "", "headersSize": -1, "bodySize": len(rs_body)}
        entries.append({"startedDateTime": "2021-10-12T14:37:15.697655Z", "time": 1.25,
                        "request": request, "response": response, "cache": {},
                        "timings": {"send": 0, "wait": 1.25, "receive": 0}})
    log = {"version": "1.2", "creator": {"name": "patrol", "version": "0.1.0"}, "entries": entries}
    if annotations is not None:
        log["_patrol"] = annotations
    return compact({"log": log})


def builtin_seeds():
    """Seeds written from the contract, per target: lists of text."""
    seeds = {
        "token_codec_fuzzer": [compact(t) for t in TOKENS],
        "token_page_codec_fuzzer": [compact(p) for p in PAGES],
        "token_request_codec_fuzzer": [compact(r) for r in REQUESTS],
        "auth_codec_fuzzer": [compact(a) for a in AUTH],
        "login_codec_fuzzer": [compact(x) for x in LOGIN],
        "registry_codec_fuzzer": [compact(x) for x in REGISTRY],
        "error_codec_fuzzer": [compact(x) for x in ERRORS] + ['{"message":"m",', "[]", "null"],
        "jwt_fuzzer": [jwt(h, c) for h in HEADERS for c in CLAIMS[:2]]
        + [jwt(HEADERS[0], c, "") for c in CLAIMS[2:]]
        + ["eyJhbGciOiJIUzI1NiJ9.e30", "a.b.c", "..", "YWxpY2U6aHVudGVyMg==", "YWxpY2U"],
        "scope_fuzzer": ["repo:admin", "repo:write", "repo:read", "repo:public_read",
                         "repo:read\nrepo:admin", "repo:public_read\nrepo:write\nrepo:read",
                         "repo:delete", "REPO:READ", ""],
        "listing_fuzzer": [
            "page=1&page_size=10", "page=2.0&page_size=100", "page=2e0", "page=2.5",
            "page=0&page_size=101", "page=abc&page_size=", "page=%32&page_size=%31%30",
            "page_size=5&page=3&extra=1", "page=9223372036854775807", "page=1e300",
            "https://hub.docker.com/v2/access-tokens?page=2&page_size=10",
            "/v2/access-tokens?page=2&page_size=10", "?page=3&page_size=5", "https://h/v2/x",
            UUID, UUID.upper(), UUID[:-1], "/v2/access-tokens", "/v2/access-tokens/",
            "/v2/access-tokens/" + UUID, "/v2/access-tokens/not-a-uuid", "/v2/access-tokens//",
            "/v2/access-tokens/%2e%2e", "/v2/access-tokens/" + UUID + "/extra",
        ],
        "rfc3339_fuzzer": [
            "2021-10-12T14:37:15.697655Z", "2021-10-12T14:37:15Z", "2021-10-12t14:37:15z",
            "2021-10-12T14:37:15.1+02:00", "2021-10-12T14:37:15.123456789-23:59",
            "2020-02-29T00:00:00Z", "2021-02-29T00:00:00Z", "2021-12-31T23:59:60Z",
            "0000-01-01T00:00:00+00:01", "9999-12-31T23:59:59.999999-00:01",
            "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999999Z", "2021-10-12 14:37:15Z",
            "2021-10-12T14:37:15.Z", "2021-10-12T14:37:15+2400",
        ],
        "redactor_fuzzer": [interaction_text(e) for e in EXCHANGES],
        "cassette_reader_fuzzer": [har(EXCHANGES), har(EXCHANGES[:1], {"run": "r1", "seed": 42}),
                                   har([]), compact({"log": {"version": "1.2"}})],
        "utf8_fuzzer": ["ci deploy", "r\u00e9sum\u00e9", "\U0001F600" * 100, "x" * 101, "",
                        "\u20ac\u0000tab\t"],
    }
    utf8_bytes = [b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe2\x82"]
    return {t: [s.encode() for s in texts] for t, texts in seeds.items()}, utf8_bytes


# Which codec target a JSON body feeds, by the members it shares with that target's types.
CODEC_MEMBERS = {
    "token_codec_fuzzer": {"uuid", "token_label", "is_active", "created_at", "scopes"},
    "token_page_codec_fuzzer": {"count", "next", "previous", "active_count", "results"},
    "token_request_codec_fuzzer": {"token_label", "scopes", "expires_at", "is_active"},
    "auth_codec_fuzzer": {"identifier", "secret", "access_token"},
    "login_codec_fuzzer": {"username", "password", "token", "detail", "login_2fa_token", "code"},
    "registry_codec_fuzzer": {"token", "access_token", "expires_in", "issued_at", "access"},
    "error_codec_fuzzer": {"message", "detail", "text", "errinfo", "fields"},
}
TIMESTAMP_MEMBERS = {"created_at", "last_used", "expires_at", "issued_at"}
CLAIM_MEMBERS = {"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "scope", "access"}


def route_body(text, out):
    """Sends one JSON body to the codec targets sharing its members, and its parts elsewhere."""
    try:
        doc = json.loads(text)
    except ValueError:
        return
    if not isinstance(doc, dict):
        out["error_codec_fuzzer"].append(text.encode())
        return
    for target, members in CODEC_MEMBERS.items():
        if members & doc.keys():
            out[target].append(text.encode())
    # JWT claims and headers travel inside a compact JWT.
    if CLAIM_MEMBERS & doc.keys():
        out["jwt_fuzzer"].append(jwt(HEADERS[0], doc).encode())
    if "alg" in doc:
        out["jwt_fuzzer"].append(jwt(doc, CLAIMS[0]).encode())
    for item in [doc] + [r for r in doc.get("results", []) if isinstance(r, dict)]:
        for key in TIMESTAMP_MEMBERS & item.keys():
            if isinstance(item[key], str):
                out["rfc3339_fuzzer"].append(item[key].encode())
        scopes = item.get("scopes")
        if isinstance(scopes, list) and all(isinstance(s, str) for s in scopes):
            out["scope_fuzzer"].append("\n".join(scopes).encode())
        for key in ("token", "access_token"):
            if isinstance(item.get(key), str) and item[key].startswith("eyJ"):
                out["jwt_fuzzer"].append(item[key].encode())
        for key in ("next", "previous"):
            if isinstance(item.get(key), str):
                out["listing_fuzzer"].append(item[key].encode())


def har_body(message):
    content = message.get("content") or message.get("postData") or {}
    text = content.get("text")
    if text is None:
        return None
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text).decode()
        except (ValueError, UnicodeDecodeError):
            return None
    return text


# Redaction placeholders of a cassette, mapped back to the markers the redactor target plants.
MARKERS = [
    (re.compile(r"eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.<<patrol:jwt:[0-9]+>>"), "$JWT"),
    (re.compile(r"(dckr_pat_)?<<patrol:secret:[0-9]+>>"), "$PAT"),
    (re.compile(r"<<patrol:password:[^>]*>>"), "$PW"),
]


def as_markers(text):
    for pattern, marker in MARKERS:
        text = pattern.sub(marker, text)
    return text


def from_cassettes(out):
    for path in sorted(CASSETTES.glob("*.har")):
        raw = path.read_text()
        out["cassette_reader_fuzzer"].append(raw.encode())
        try:
            entries = json.loads(raw)["log"]["entries"]
        except (ValueError, KeyError, TypeError):
            continue
        for entry in entries:
            request, response = entry.get("request", {}), entry.get("response", {})
            url = request.get("url", "")
            path_and_query = re.sub(r"^[a-z]+://[^/]*", "", url)
            path_part, _, query = path_and_query.partition("?")
            exchange = interaction_text((
                request.get("method", ""), path_part, query,
                [(h.get("name", ""), h.get("value", "")) for h in request.get("headers", [])],
                (har_body(request) or "").replace("\n", " "), response.get("status", 0),
                [(h.get("name", ""), h.get("value", "")) for h in response.get("headers", [])],
                har_body(response) or ""))
            out["redactor_fuzzer"].append(as_markers(exchange).encode())
            out["oracle_fuzzer"].append(("---\n" + exchange).encode())
            out["listing_fuzzer"].append(path_part.encode())
            if query:
                out["listing_fuzzer"].append(query.encode())
            for header in request.get("headers", []):
                value = header.get("value", "")
                if header.get("name", "").lower() == "authorization" and " " in value:
                    credential = value.split(" ", 1)[1]
                    out["jwt_fuzzer"].append(credential.encode())
            for body in (har_body(request), har_body(response)):
                if body:
                    route_body(body, out)
            if "startedDateTime" in entry:
                out["rfc3339_fuzzer"].append(entry["startedDateTime"].encode())


def from_examples(out):
    if not EXAMPLES.is_dir():
        return
    for path in sorted(EXAMPLES.rglob("*.json")):
        route_body(path.read_text(), out)


def main():
    check = "--check" in sys.argv[1:]
    builtin, utf8_extra = builtin_seeds()
    targets = sorted(set(builtin) | {"oracle_fuzzer"})
    out = {t: list(builtin.get(t, [])) for t in targets}
    out["utf8_fuzzer"] += utf8_extra
    from_examples(out)
    from_cassettes(out)

    stale = []
    for target in targets:
        directory = CORPORA / target
        if not (ROOT / "fuzz" / (target + ".cpp")).exists():
            continue  # a target whose fuzzer is not in this tree
        wanted = {}
        for seed in out[target]:
            text = seed.decode("utf-8", "surrogateescape")
            seed = redact(text).encode("utf-8", "surrogateescape")
            for pattern in SECRET_PATTERNS:
                if pattern.search(seed.decode("utf-8", "replace")):
                    sys.exit(f"regenerate_seeds: a {target} seed still holds a secret shape")
            ext = "json" if seed[:1] in (b"{", b"[") else "txt"
            wanted["gen-" + hashlib.sha1(seed).hexdigest()[:12] + "." + ext] = seed
        existing = {p.name: p.read_bytes() for p in directory.glob("gen-*")}
        if existing == wanted:
            continue
        stale.append(target)
        if check:
            continue
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "regressions").mkdir(exist_ok=True)
        keep = directory / "regressions" / ".gitkeep"
        if not any((directory / "regressions").iterdir()):
            keep.touch()
        for name in existing.keys() - wanted.keys():
            (directory / name).unlink()
        for name, seed in wanted.items():
            (directory / name).write_bytes(seed)
        print(f"{target}: {len(wanted)} generated seeds")
    if check and stale:
        sys.exit("regenerate_seeds: stale seeds for " + ", ".join(stale))


if __name__ == "__main__":
    main()
