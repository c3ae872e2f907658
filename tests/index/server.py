#!/usr/bin/env python3
"""A local package index for icelock's tests (standard library only).

Serves the wheels and sdists of one folder as a simple repository:

  /simple/<project>/            PEP 691 JSON (when asked by Accept) or PEP 503 HTML
  /files/<filename>             the file, with HTTP Range support
  /files/<filename>.metadata    PEP 658: the wheel's METADATA, byte for byte

Behaviour is chosen by flags, so one test can stand up an index the way it needs:

  --metadata {hash,bool,none}   core-metadata with its sha256 (real PyPI), `true` without a
                                hash, or no PEP 658 at all (the mirror these machines reach)
  --format {both,json,html}     which page forms are offered
  --no-range                    ignore Range and answer 200 with the whole file
  --fail-first N                answer 500 to the first N requests of each path
  --wrong-hash NAME             advertise a wrong sha256 for file NAME
  --redirect-http               answer every /files/ request with a redirect to a plain-http
                                host off loopback (http://example.invalid, which never resolves)
  --redirect-to BASE            answer every /files/ request with a redirect to BASE + its path
  --require-auth USER:PASS      answer 401 to any request without that HTTP Basic login
  --slow SECONDS                sleep before every answer
  --bind ADDRESS                listen on ADDRESS instead of 127.0.0.1
  --log FILE                    append one JSON line per request: method, path, range, accept,
                                authorization (whether the header was sent), user (the Basic
                                login's user name, never the password), status, bytes

A request's log line is written before its answer is sent, so once a client has its answer the
line is in the file. It prints the port it listens on, then serves until killed.
"""

import argparse
import base64
import hashlib
import html
import json
import os
import re
import sys
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def project_of(filename):
    if filename.endswith(".whl"):
        return normalize(filename.split("-")[0])
    for ext in (".tar.gz", ".zip", ".tar.bz2"):
        if filename.endswith(ext):
            stem = filename[: -len(ext)]
            return normalize(stem.rsplit("-", 1)[0])
    return None


def wheel_metadata(path):
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            parts = name.split("/")
            if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA":
                return zf.read(name)
    return None


class Index:
    def __init__(self, folder, args):
        self.folder = folder
        self.args = args
        self.counts = {}
        self.lock = threading.Lock()

    def files(self, project):
        out = []
        for filename in sorted(os.listdir(self.folder)):
            if project_of(filename) != project:
                continue
            path = os.path.join(self.folder, filename)
            data = open(path, "rb").read()
            sha = hashlib.sha256(data).hexdigest()
            if filename == self.args.wrong_hash:
                sha = "0" * 64
            meta = wheel_metadata(path) if filename.endswith(".whl") else None
            out.append(
                {
                    "filename": filename,
                    "sha256": sha,
                    "size": len(data),
                    "metadata_sha256": hashlib.sha256(meta).hexdigest() if meta is not None else None,
                    "upload_time": time.strftime(
                        "%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(os.path.getmtime(path))
                    ),
                }
            )
        return out

    def count(self, path):
        with self.lock:
            self.counts[path] = self.counts.get(path, 0) + 1
            return self.counts[path]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    index = None

    def log_message(self, *_):
        pass

    def basic_login(self):
        """(user, password) of an HTTP Basic Authorization header, or None."""
        header = self.headers.get("Authorization") or ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user, password

    def record(self, status, nbytes):
        log = self.index.args.log
        if log:
            login = self.basic_login()
            entry = {
                "method": self.command,
                "path": self.path,
                "range": self.headers.get("Range"),
                "accept": self.headers.get("Accept"),
                "authorization": bool(self.headers.get("Authorization")),
                "user": login[0] if login else None,
                "status": status,
                "bytes": nbytes,
            }
            with self.index.lock, open(log, "a") as f:
                f.write(json.dumps(entry) + "\n")

    def send(self, status, body=b"", content_type="text/plain", headers=()):
        # Logged first: a client that has its answer can rely on the line being there.
        self.record(status, len(body) if self.command != "HEAD" else 0)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        args = self.index.args
        if args.slow:
            time.sleep(args.slow)
        path = unquote(self.path.split("?")[0])
        if args.require_auth and self.basic_login() != tuple(args.require_auth.split(":", 1)):
            return self.send(401, b"login required", headers=[("WWW-Authenticate", 'Basic realm="test"')])
        if args.fail_first and self.index.count(path) <= args.fail_first:
            return self.send(500, b"injected failure")
        m = re.fullmatch(r"/simple/([^/]+)/?", path)
        if m:
            return self.project_page(normalize(m.group(1)))
        m = re.fullmatch(r"/files/([^/]+)", path)
        if m:
            if args.redirect_to:
                return self.send(302, headers=[("Location", args.redirect_to.rstrip("/") + path)])
            if args.redirect_http:
                return self.send(302, headers=[("Location", "http://example.invalid" + path)])
            return self.file(m.group(1))
        self.send(404, b"not found")

    def project_page(self, project):
        args = self.index.args
        files = self.index.files(project)
        if not files:
            return self.send(404, b"no such project")
        accept = self.headers.get("Accept", "")
        want_json = args.format == "json" or (args.format == "both" and JSON_TYPE in accept)
        if want_json:
            page = {"meta": {"api-version": "1.1"}, "name": project, "files": []}
            for f in files:
                entry = {
                    "filename": f["filename"],
                    "url": "../../files/" + f["filename"],
                    "hashes": {"sha256": f["sha256"]},
                    "size": f["size"],
                    "upload-time": f["upload_time"],
                }
                if f["metadata_sha256"] and args.metadata == "hash":
                    entry["core-metadata"] = {"sha256": f["metadata_sha256"]}
                elif f["metadata_sha256"] and args.metadata == "bool":
                    entry["core-metadata"] = True
                page["files"].append(entry)
            return self.send(200, json.dumps(page).encode(), JSON_TYPE)
        links = []
        for f in files:
            attrs = ""
            if f["metadata_sha256"] and args.metadata == "hash":
                attrs = ' data-core-metadata="sha256=%s"' % f["metadata_sha256"]
            elif f["metadata_sha256"] and args.metadata == "bool":
                attrs = ' data-core-metadata="true"'
            links.append(
                '<a href="../../files/%s#sha256=%s"%s>%s</a><br/>'
                % (html.escape(f["filename"]), f["sha256"], attrs, html.escape(f["filename"]))
            )
        body = "<!DOCTYPE html><html><body>%s</body></html>" % "\n".join(links)
        self.send(200, body.encode(), "text/html")

    def file(self, name):
        args = self.index.args
        if name.endswith(".metadata"):
            wheel = os.path.join(self.index.folder, name[: -len(".metadata")])
            if args.metadata == "none" or not os.path.isfile(wheel):
                return self.send(404, b"no metadata")
            meta = wheel_metadata(wheel)
            if meta is None:
                return self.send(404, b"no metadata")
            return self.send(200, meta, "application/octet-stream")
        path = os.path.join(self.index.folder, name)
        if not os.path.isfile(path):
            return self.send(404, b"no such file")
        data = open(path, "rb").read()
        rng = self.headers.get("Range")
        if rng and not args.no_range:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
            if not m or (not m.group(1) and not m.group(2)):
                return self.send(416, b"bad range")
            if m.group(1):
                start = int(m.group(1))
                end = int(m.group(2)) if m.group(2) else len(data) - 1
            else:
                start = max(0, len(data) - int(m.group(2)))
                end = len(data) - 1
            end = min(end, len(data) - 1)
            if start > end:
                return self.send(416, b"unsatisfiable", headers=[("Content-Range", "bytes */%d" % len(data))])
            return self.send(
                206,
                data[start : end + 1],
                "application/octet-stream",
                headers=[("Content-Range", "bytes %d-%d/%d" % (start, end, len(data))), ("Accept-Ranges", "bytes")],
            )
        headers = [] if args.no_range else [("Accept-Ranges", "bytes")]
        self.send(200, data, "application/octet-stream", headers=headers)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder")
    parser.add_argument("--metadata", choices=["hash", "bool", "none"], default="hash")
    parser.add_argument("--format", choices=["both", "json", "html"], default="both")
    parser.add_argument("--no-range", action="store_true")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--wrong-hash", default=None)
    parser.add_argument("--redirect-http", action="store_true")
    parser.add_argument("--redirect-to", default=None)
    parser.add_argument("--require-auth", default=None)
    parser.add_argument("--slow", type=float, default=0)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--log", default=None)
    args = parser.parse_args()
    Handler.index = Index(os.path.abspath(args.folder), args)
    server = ThreadingHTTPServer((args.bind, 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
