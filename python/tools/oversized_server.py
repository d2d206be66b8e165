"""A stand-in Sigma API whose workbook listing answers with a body of SIZE megabytes, for
measuring the per-response size cap (`maxResponseBytes`) with the release binary
(docs/performance.md, "A 300 MB answer").

    python3 python/tools/oversized_server.py PORT SIZE_MB [announced|streamed]

`announced` sends `Content-Length` first (the client can refuse before reading);
`streamed` (the default) sends the body chunked, so the client only learns its size by
reading it. The token endpoint and every other listing answer small and empty. Prints, on
stderr, how many body bytes it managed to send before the client hung up.
"""

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 1 << 20


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _small(self, body: bytes):
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        self._small(b'{"access_token":"measurement-token","expires_in":3600}')

    def do_GET(self):
        if self.path.split("?")[0] != "/v2/workbooks":
            self._small(b'{"entries":[],"nextPage":null}')
            return
        total = SIZE_MB * CHUNK
        self.send_response(200)
        self.send_header("content-type", "application/json")
        if MODE == "announced":
            self.send_header("content-length", str(total))
        else:
            self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        # A JSON page whose one entry's name is the whole body: valid JSON if read to the end.
        head = b'{"entries":[{"workbookId":"w","name":"'
        tail = b'"}],"nextPage":null}'
        sent = 0
        try:
            data = b"x" * CHUNK
            parts = [head + data[len(head):]] + [data] * (SIZE_MB - 2) + [data[len(tail):] + tail]
            for part in parts:
                if MODE == "announced":
                    self.wfile.write(part)
                else:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                sent += len(part)
            if MODE != "announced":
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            print(f"/v2/workbooks: sent {sent} of {total} body bytes ({MODE})", file=sys.stderr, flush=True)


if __name__ == "__main__":
    PORT = int(sys.argv[1])
    SIZE_MB = int(sys.argv[2])
    MODE = sys.argv[3] if len(sys.argv) > 3 else "streamed"
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
