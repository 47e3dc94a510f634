"""The trigger target of the bench: answers every POST with 204 and counts them.

Run as its own process (`python -m bench.receiver`); it prints its port on the first line.
`GET /count` answers how many POSTs it has received, which the harness checks against the
triggers the server says it sent.

It stands for the AI service on another host, yet it runs on the bench's own cores, so every
microsecond it spends is taken from the server under test: it is a small asyncio server that
reads just enough HTTP/1.1 (the request line, `Content-Length`, the body) and keeps connections
alive, rather than `http.server`, which starts a thread per connection and parses every header.
"""

import asyncio
import sys

NO_CONTENT = b"HTTP/1.1 204 No Content\r\n\r\n"
MAX_HEAD_BYTES = 16384


class Receiver:
    def __init__(self) -> None:
        self.count = 0

    async def serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if len(head) > MAX_HEAD_BYTES:
                    break
                method, _, _ = head.partition(b" ")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                if length:
                    await reader.readexactly(length)
                if method == b"POST":
                    self.count += 1
                    writer.write(NO_CONTENT)
                else:
                    body = str(self.count).encode()
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                    )
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()


async def serve(host: str = "127.0.0.1", port: int = 0) -> None:
    receiver = Receiver()
    server = await asyncio.start_server(receiver.serve_connection, host, port, limit=MAX_HEAD_BYTES)
    sys.stdout.write(f"{server.sockets[0].getsockname()[1]}\n")
    sys.stdout.flush()
    async with server:
        await server.serve_forever()


def main() -> None:
    asyncio.run(serve())


if __name__ == "__main__":
    main()
