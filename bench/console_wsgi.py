"""The production app for the console benchmark.

bench/common.load() sends no Cookie header, so a request may carry the console's session
cookie as `?bench_cookie=`; this middleware moves it into the header (for every path alike,
/healthz included, so the comparison stays fair). Benchmarks only; never deployed.
"""

from urllib.parse import parse_qsl, urlencode

from app import create_app

app = create_app()
_inner = app.wsgi_app


def _cookie_to_header(environ, start_response):
    query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    cookie = next((v for k, v in query if k == "bench_cookie"), None)
    if cookie is not None:
        environ["HTTP_COOKIE"] = f"zx_console={cookie}"
        environ["QUERY_STRING"] = urlencode([(k, v) for k, v in query if k != "bench_cookie"])
    return _inner(environ, start_response)


app.wsgi_app = _cookie_to_header
