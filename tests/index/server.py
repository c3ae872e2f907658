#!/usr/bin/env python3
"""A local package index for icelock's tests (standard library only).

Serves the wheels and sdists of one folder as a simple repository:

  /simple/<project>/            PEP 691 JSON (when asked by Accept) or PEP 503 HTML
  /files/<filename>             the file, with HTTP Range support
  /files/<filename>.metadata    PEP 658: the wheel's METADATA, byte for byte

Behaviour is chosen by flags, so one test can stand up an index the way it needs:

  --metadata {hash,bool,none,undeclared}
                                core-metadata with its sha256 (real PyPI), `true` without a
                                hash, no PEP 658 at all, or none declared on the pages but the
                                `.metadata` files served anyway (the mirror these machines reach
                                serves them for about half the wheels)
  --format {both,json,html}     which page forms are offered
  --no-range                    ignore Range and answer 200 with the whole file
  --no-suffix-range             answer 501 to a suffix range (`bytes=-N`)
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
                                login's user name, never the password), status, bytes, and
                                `fault` (which injected fault shaped the answer) when one did

Faults (for tests/faults.rs). Those that act on requests hit only the paths matching --only,
when it is given (it also scopes --slow, --fail-first, --redirect-http and --redirect-to);
without it, every path:

  --only REGEX                  limit request faults to paths matching REGEX (re.search)
  --stall-after BYTES           send the headers (full Content-Length) and BYTES of the body, then
                                go silent until the client hangs up (at most --stall-max seconds)
  --stall-max SECONDS           the longest a stalled answer is held open (default 300)
  --truncate-at BYTES           send the headers (full Content-Length) and BYTES of the body, then
                                close the connection
  --drip SECONDS                send the body 16 bytes at a time, SECONDS apart (never silent
                                for long, never done soon)
  --rate-limit-first N          answer 429 to the first N requests of each path
  --retry-after VALUE           the Retry-After header sent with those 429s (default 1; `none`
                                sends none)
  --reset-first N               close the connection without answering (an RST) for the first N
                                requests of each path
  --wrong-size FILE=SIZE        advertise SIZE as the `size` of FILE in JSON pages
  --bad-range MODE              answer Range requests wrongly with 206: `shifted` (the header names
                                the asked range, the bytes start one later), `mismatch` (the header
                                and bytes are of another range than asked), `missing` (no
                                Content-Range at all)
  --redirect-loop MODE          answer /files/ requests with redirects that never end: `self` (to
                                the very same URL) or `chain` (to the same path, ?hop=N+1)
  --huge-body MB                replace the body by MB MiB of filler, generated as it is sent (a
                                project page stays valid JSON: a list of filler sdists)
  --chunked                     send --huge-body without Content-Length (chunked encoding), so
                                the client learns the size only by reading
  --gzip-bomb MB                answer project pages with Content-Encoding: gzip, a small body
                                that inflates to a page of MB MiB (valid JSON, padded with spaces)
  --zip-fault MODE              serve the wheels matching --only with a broken zip (listed with its
                                own sha256 and size): `cd-outside` (the central directory offset
                                points past the end), `member-outside` (METADATA's local header
                                offset points past the end), `metadata-1gb` (METADATA declares
                                1 GB), `metadata-bomb` (METADATA declares its real size but
                                inflates to 40 MiB)

A request's log line is written before its answer is sent, so once a client has its answer the
line is in the file. It prints the port it listens on, then serves until killed.
"""

import argparse
import base64
import hashlib
import html
import io
import json
import os
import re
import select
import socket
import struct
import sys
import threading
import time
import zipfile
import zlib
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


def _u16(data, at):
    return struct.unpack_from("<H", data, at)[0]


def _u32(data, at):
    return struct.unpack_from("<I", data, at)[0]


def zip_members(data):
    """(end-of-central-directory offset, [(name, central entry offset, local header offset)])."""
    eocd = data.rfind(b"PK\x05\x06")
    if eocd < 0:
        raise ValueError("no end of central directory")
    count, cd_offset = _u16(data, eocd + 10), _u32(data, eocd + 16)
    out, at = [], cd_offset
    for _ in range(count):
        if data[at : at + 4] != b"PK\x01\x02":
            raise ValueError("bad central directory entry")
        n, x, c = _u16(data, at + 28), _u16(data, at + 30), _u16(data, at + 32)
        name = data[at + 46 : at + 46 + n].decode("utf-8", "replace")
        out.append((name, at, _u32(data, at + 42)))
        at += 46 + n + x + c
    return eocd, out


def is_metadata_member(name):
    parts = name.split("/")
    return len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA"


def zip_fault(data, mode):
    """The wheel `data` broken the way `mode` says (see --zip-fault)."""
    if mode == "metadata-bomb":
        src = zipfile.ZipFile(io.BytesIO(data))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                body = src.read(info.filename)
                if is_metadata_member(info.filename):
                    honest = len(body)
                    # Deflated zeros: 40 MiB in about 40 KiB.
                    body = body + b"\0" * (40 * 1024 * 1024)
                    bomb_name = info.filename
                dst.writestr(info, body, compress_type=zipfile.ZIP_DEFLATED)
        data = bytearray(out.getvalue())
        _, members = zip_members(data)
        for name, central, local in members:
            if name == bomb_name:
                # Declare the honest size (and keep the CRC of the whole): only inflating shows.
                struct.pack_into("<I", data, central + 24, honest)
                struct.pack_into("<I", data, local + 22, honest)
        return bytes(data)
    data = bytearray(data)
    eocd, members = zip_members(data)
    if mode == "cd-outside":
        struct.pack_into("<I", data, eocd + 16, len(data) + 1_000_000)
        return bytes(data)
    for name, central, local in members:
        if not is_metadata_member(name):
            continue
        if mode == "member-outside":
            struct.pack_into("<I", data, central + 42, len(data) + 1_000_000)
        elif mode == "metadata-1gb":
            struct.pack_into("<I", data, central + 24, 1_000_000_000)
            struct.pack_into("<I", data, local + 22, 1_000_000_000)
    return bytes(data)


class Index:
    def __init__(self, folder, args):
        self.folder = folder
        self.args = args
        self.counts = {}
        self.lock = threading.Lock()
        self.faulty = {}

    def targeted(self, path):
        """Whether request faults apply to `path` (see --only)."""
        return not self.args.only or re.search(self.args.only, path) is not None

    def served_bytes(self, filename):
        """What /files/<filename> serves: the file, or its broken copy under --zip-fault."""
        path = os.path.join(self.folder, filename)
        data = open(path, "rb").read()
        if self.args.zip_fault and filename.endswith(".whl") and self.targeted("/files/" + filename):
            with self.lock:
                if filename not in self.faulty:
                    self.faulty[filename] = zip_fault(data, self.args.zip_fault)
                return self.faulty[filename]
        return data

    def files(self, project):
        out = []
        for filename in sorted(os.listdir(self.folder)):
            if project_of(filename) != project:
                continue
            path = os.path.join(self.folder, filename)
            data = self.served_bytes(filename)
            sha = hashlib.sha256(data).hexdigest()
            if filename == self.args.wrong_hash:
                sha = "0" * 64
            size = len(data)
            if self.args.wrong_size and self.args.wrong_size.rpartition("=")[0] == filename:
                size = int(self.args.wrong_size.rpartition("=")[2])
            meta = wheel_metadata(path) if filename.endswith(".whl") else None
            out.append(
                {
                    "filename": filename,
                    "sha256": sha,
                    "size": size,
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

    def record(self, status, nbytes, fault=None):
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
            if fault:
                entry["fault"] = fault
            with self.index.lock, open(log, "a") as f:
                f.write(json.dumps(entry) + "\n")

    def send(self, status, body=b"", content_type="text/plain", headers=()):
        fault = self.body_fault(status)
        if fault:
            try:
                return self.send_faulty(fault, status, body, content_type, headers)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (as it should): nothing more to send.
                self.close_connection = True
                return None
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

    # -- injected faults ------------------------------------------------------------------

    def body_fault(self, status):
        """The fault that shapes this answer's body, if any (only real answers: 200 and 206)."""
        args = self.index.args
        if status not in (200, 206) or self.command == "HEAD":
            return None
        if not self.index.targeted(self.fault_path):
            return None
        page = self.fault_path.startswith("/simple/")
        if args.huge_body:
            return "huge-body"
        if args.gzip_bomb and page:
            return "gzip-bomb"
        if args.stall_after is not None:
            return "stall"
        if args.truncate_at is not None:
            return "truncate"
        if args.drip:
            return "drip"
        return None

    def send_faulty(self, fault, status, body, content_type, headers):
        args = self.index.args
        if fault == "huge-body":
            return self.send_huge(status, content_type, headers)
        if fault == "gzip-bomb":
            inflated = args.gzip_bomb * 1024 * 1024
            z = zlib.compressobj(9, zlib.DEFLATED, 31)
            parts = [z.compress(body)]
            spaces = b" " * (1024 * 1024)
            left = inflated - len(body)
            while left > 0:
                parts.append(z.compress(spaces[: min(left, len(spaces))]))
                left -= len(spaces)
            parts.append(z.flush())
            packed = b"".join(parts)
            self.record(status, len(packed), fault)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(packed)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(packed)
            return None
        self.record(status, len(body), fault)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if fault == "stall":
            self.wfile.write(body[: args.stall_after])
            self.wait_for_hangup(args.stall_max)
        elif fault == "truncate":
            self.wfile.write(body[: args.truncate_at])
            self.close_connection = True
        elif fault == "drip":
            for at in range(0, len(body), 16):
                self.wfile.write(body[at : at + 16])
                time.sleep(args.drip)
        return None

    def wait_for_hangup(self, most):
        """Holds the connection open, silent, until the client closes it (or `most` seconds)."""
        deadline = time.monotonic() + most
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.connection], [], [], 0.2)
            if readable:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        break
                except OSError:
                    break
                time.sleep(0.2)
        self.close_connection = True

    def send_huge(self, status, content_type, headers):
        """--huge-body: MB MiB of filler, generated while it is sent (never held whole)."""
        args = self.index.args
        total = args.huge_body * 1024 * 1024
        if self.fault_path.startswith("/simple/"):
            name = self.fault_path.strip("/").split("/")[-1]
            head = ('{"meta": {"api-version": "1.1"}, "name": "%s", "files": [' % name).encode()
            entry = b'{"filename": "filler-0.0.tar.gz", "url": "filler-0.0.tar.gz", "hashes": {}}, '
            tail = b'{"filename": "filler-0.1.tar.gz", "url": "filler-0.1.tar.gz", "hashes": {}}]}'
            pad = b" "
        else:
            head = b"Metadata-Version: 2.1\nName: filler\nVersion: 1.0\nSummary: "
            entry = b"filler "
            tail = b"\n"
            pad = b"x"
        block = entry * max(1, 65536 // len(entry))
        self.record(status, total, "huge-body" + ("-chunked" if args.chunked else ""))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if args.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(total))
        for k, v in headers:
            if k.lower() != "content-range":
                self.send_header(k, v)
        self.end_headers()

        def put(data):
            if args.chunked:
                self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
            else:
                self.wfile.write(data)

        put(head)
        sent = len(head)
        body_end = total - len(tail)
        while sent + len(block) <= body_end:
            put(block)
            sent += len(block)
        if body_end > sent:
            put(pad * (body_end - sent))
        put(tail)
        if args.chunked:
            self.wfile.write(b"0\r\n\r\n")
        return None

    def reset(self):
        """Closes the connection at once, unanswered, with an RST."""
        self.record(0, 0, "reset")
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    # -- requests --------------------------------------------------------------------------

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        args = self.index.args
        path = unquote(self.path.split("?")[0])
        self.fault_path = path
        targeted = self.index.targeted(path)
        if args.slow and targeted:
            time.sleep(args.slow)
        if args.reset_first and targeted and self.index.count(("reset", path)) <= args.reset_first:
            return self.reset()
        if args.require_auth and self.basic_login() != tuple(args.require_auth.split(":", 1)):
            return self.send(401, b"login required", headers=[("WWW-Authenticate", 'Basic realm="test"')])
        if args.fail_first and targeted and self.index.count(path) <= args.fail_first:
            return self.send(500, b"injected failure")
        if args.rate_limit_first and targeted and self.index.count(("429", path)) <= args.rate_limit_first:
            headers = [] if args.retry_after == "none" else [("Retry-After", args.retry_after)]
            return self.send(429, b"too many requests", headers=headers)
        m = re.fullmatch(r"/simple/([^/]+)/?", path)
        if m:
            return self.project_page(normalize(m.group(1)))
        m = re.fullmatch(r"/files/([^/]+)", path)
        if m:
            if args.redirect_loop and targeted:
                if args.redirect_loop == "self":
                    location = self.path
                else:
                    hop = re.search(r"[?&]hop=(\d+)", self.path)
                    location = "%s?hop=%d" % (self.path.split("?")[0], int(hop.group(1)) + 1 if hop else 1)
                return self.send(302, headers=[("Location", location)])
            if args.redirect_to and targeted:
                return self.send(302, headers=[("Location", args.redirect_to.rstrip("/") + path)])
            if args.redirect_http and targeted:
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
            return self.page_answer(json.dumps(page).encode(), JSON_TYPE)
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
        self.page_answer(body.encode(), "text/html")

    def page_answer(self, body, content_type):
        """A page, with an ETag (and 304 to a request that holds it) and the Cache-Control
        given by --etag / --cache-control."""
        args = self.index.args
        headers = []
        if args.etag:
            tag = '"%s"' % hashlib.sha256(body).hexdigest()[:16]
            headers.append(("ETag", tag))
            if self.headers.get("If-None-Match") == tag:
                if args.cache_control:
                    headers.append(("Cache-Control", args.cache_control))
                return self.send(304, b"", content_type, headers=headers)
        if args.cache_control:
            headers.append(("Cache-Control", args.cache_control))
        return self.send(200, body, content_type, headers=headers)

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
        data = self.index.served_bytes(name)
        rng = self.headers.get("Range")
        if rng and not args.no_range:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
            if not m or (not m.group(1) and not m.group(2)):
                return self.send(416, b"bad range")
            if not m.group(1) and args.no_suffix_range:
                # Some CDNs (real PyPI's has) refuse suffix ranges outright.
                return self.send(501, b"suffix ranges are not implemented")
            if m.group(1):
                start = int(m.group(1))
                end = int(m.group(2)) if m.group(2) else len(data) - 1
            else:
                start = max(0, len(data) - int(m.group(2)))
                end = len(data) - 1
            end = min(end, len(data) - 1)
            if start > end:
                return self.send(416, b"unsatisfiable", headers=[("Content-Range", "bytes */%d" % len(data))])
            if args.bad_range and self.index.targeted(self.fault_path):
                return self.bad_range(data, start, end)
            return self.send(
                206,
                data[start : end + 1],
                "application/octet-stream",
                headers=[("Content-Range", "bytes %d-%d/%d" % (start, end, len(data))), ("Accept-Ranges", "bytes")],
            )
        headers = [] if args.no_range else [("Accept-Ranges", "bytes")]
        self.send(200, data, "application/octet-stream", headers=headers)

    def bad_range(self, data, start, end):
        """--bad-range: a 206 that does not answer the range asked for."""
        mode = self.index.args.bad_range
        size = len(data)
        if mode == "shifted":
            body = data[start + 1 : end + 2].ljust(end - start + 1, b"\0")
            content_range = "bytes %d-%d/%d" % (start, end, size)
        elif mode == "mismatch":
            other = start + 1 if start < end else max(0, start - 1)
            body = data[other : end + 1]
            content_range = "bytes %d-%d/%d" % (other, end, size)
        else:  # missing
            body = data[start : end + 1]
            content_range = None
        headers = [("Accept-Ranges", "bytes")]
        if content_range:
            headers.append(("Content-Range", content_range))
        # Logged with the fault named, as every injected answer is.
        self.record(206, len(body), "bad-range-" + mode)
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder")
    parser.add_argument("--metadata", choices=["hash", "bool", "none", "undeclared"], default="hash")
    parser.add_argument("--format", choices=["both", "json", "html"], default="both")
    parser.add_argument("--no-range", action="store_true")
    parser.add_argument("--no-suffix-range", action="store_true")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--wrong-hash", default=None)
    parser.add_argument("--redirect-http", action="store_true")
    parser.add_argument("--redirect-to", default=None)
    parser.add_argument("--require-auth", default=None)
    parser.add_argument("--slow", type=float, default=0)
    parser.add_argument("--etag", action="store_true")
    parser.add_argument("--cache-control", default=None)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--log", default=None)
    parser.add_argument("--only", default=None)
    parser.add_argument("--stall-after", type=int, default=None)
    parser.add_argument("--stall-max", type=float, default=300)
    parser.add_argument("--truncate-at", type=int, default=None)
    parser.add_argument("--drip", type=float, default=0)
    parser.add_argument("--rate-limit-first", type=int, default=0)
    parser.add_argument("--retry-after", default="1")
    parser.add_argument("--reset-first", type=int, default=0)
    parser.add_argument("--wrong-size", default=None)
    parser.add_argument("--bad-range", choices=["shifted", "mismatch", "missing"], default=None)
    parser.add_argument("--redirect-loop", choices=["self", "chain"], default=None)
    parser.add_argument("--huge-body", type=int, default=0)
    parser.add_argument("--chunked", action="store_true")
    parser.add_argument("--gzip-bomb", type=int, default=0)
    parser.add_argument(
        "--zip-fault", choices=["cd-outside", "member-outside", "metadata-1gb", "metadata-bomb"], default=None
    )
    args = parser.parse_args()
    Handler.index = Index(os.path.abspath(args.folder), args)
    server = ThreadingHTTPServer((args.bind, 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
