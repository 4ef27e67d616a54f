#!/usr/bin/python3
"""A chat-completions endpoint on Python's asyncio servers, for
tests/e2e/test_wire_compat.py. Usage:

  wire_async_server.py uvicorn|aiohttp [--tls CERT KEY]

  uvicorn  Debian's uvicorn (python3-uvicorn, h11 underneath) serving a
           bare ASGI app: the server vLLM, LiteLLM and llama-cpp-python's
           OpenAI APIs run on (they add FastAPI or Starlette on top, which
           only builds the same ASGI messages).
  aiohttp  aiohttp's web server (python3-aiohttp, its own HTTP parser and
           writer).

The first path segment picks the answer: /json/... a JSON answer with its
Content-Length; /sse/... a text/event-stream, one event per write, no
length (so chunked), usage in the last event. The answer's content is
"FRAMEWORK MODE: " + the last message's content.

Binds 127.0.0.1:0 and prints "listening on 127.0.0.1:PORT", then "conn N"
the first time a connection (the client's address and port) brings a
request, and "req N" per request, flushed. With --tls it serves https (the
ssl module; asyncio hands a connection over only after its handshake).
"""

import json
import socket
import ssl
import sys

FRAMEWORK = sys.argv[1] if len(sys.argv) > 1 else ""
_connections = {}  # (host, port) of a client connection -> its number


def say(line):
    print(line, flush=True)


def count(peer):
    """The connection's number; "conn N" the first time it is seen."""
    if peer not in _connections:
        _connections[peer] = len(_connections) + 1
        say(f"conn {_connections[peer]}")
    n = _connections[peer]
    say(f"req {n}")
    return n


def answer_of(mode, body):
    request = json.loads(body)
    return request.get("model", "?"), f"{FRAMEWORK} {mode}: {request['messages'][-1]['content']}"


def completion(model, content):
    return json.dumps({
        "id": "chatcmpl-async", "object": "chat.completion", "created": 1700000000,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12},
    }).encode()


def sse_events(model, content):
    """OpenAI's shape: role, content in thirds, finish_reason, usage, [DONE]."""
    def chunk(choices, usage=None):
        body = {"id": "chatcmpl-async", "object": "chat.completion.chunk",
                "created": 1700000000, "model": model, "choices": choices}
        if usage:
            body["usage"] = usage
        return f"data: {json.dumps(body)}\n\n".encode()

    third = len(content) // 3
    events = [chunk([{"index": 0, "delta": {"role": "assistant", "content": ""},
                      "finish_reason": None}])]
    for piece in (content[:third], content[third:2 * third], content[2 * third:]):
        events.append(chunk([{"index": 0, "delta": {"content": piece}, "finish_reason": None}]))
    events.append(chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]))
    events.append(chunk([], {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}))
    events.append(b"data: [DONE]\n\n")
    return events


async def asgi_app(scope, receive, send):
    """A bare ASGI app for uvicorn."""
    if scope["type"] != "http":
        return  # lifespan: nothing to set up
    count(tuple(scope["client"]))
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    mode = scope["path"].split("/")[1]
    model, content = answer_of(mode, body)
    if mode == "json":
        data = completion(model, content)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/event-stream"),
                            (b"cache-control", b"no-cache")]})
    for event in sse_events(model, content):
        await send({"type": "http.response.body", "body": event, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


def serve_uvicorn(sock, tls):
    import uvicorn  # Debian's python3-uvicorn (scripts/bootstrap)
    cert, key = tls if tls else (None, None)
    config = uvicorn.Config(asgi_app, log_level="warning", lifespan="off",
                            ssl_certfile=cert, ssl_keyfile=key)
    uvicorn.Server(config).run(sockets=[sock])


def serve_aiohttp(sock, tls):
    from aiohttp import web  # Debian's python3-aiohttp

    async def chat(request):
        count(request.transport.get_extra_info("peername")[:2])
        mode = request.match_info["mode"]
        model, content = answer_of(mode, await request.read())
        if mode == "json":
            return web.Response(body=completion(model, content), content_type="application/json")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-cache"})
        await response.prepare(request)
        for event in sse_events(model, content):
            await response.write(event)
        await response.write_eof()
        return response

    context = None
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
    app = web.Application()
    app.router.add_post("/{mode}/v1/chat/completions", chat)
    web.run_app(app, sock=sock, ssl_context=context, print=None, handle_signals=True)


def main():
    tls = None
    if "--tls" in sys.argv:
        tls = tuple(sys.argv[sys.argv.index("--tls") + 1:][:2])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.setblocking(False)
    say(f"listening on 127.0.0.1:{sock.getsockname()[1]}")
    if FRAMEWORK == "uvicorn":
        serve_uvicorn(sock, tls)
    elif FRAMEWORK == "aiohttp":
        serve_aiohttp(sock, tls)
    else:
        sys.exit(f"usage: {sys.argv[0]} uvicorn|aiohttp [--tls CERT KEY]")


if __name__ == "__main__":
    main()
