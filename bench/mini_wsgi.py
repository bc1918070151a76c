"""The production app for the mini-feed benchmark.

bench/common.load() sends no Authorization header, so a request may carry the session
token as `?bench_token=`; this middleware moves it into the header (for every path alike,
/healthz included, so the comparison stays fair). Benchmarks only; never deployed.
"""

from urllib.parse import parse_qsl, urlencode

from app import create_app

app = create_app()
_inner = app.wsgi_app


def _token_to_header(environ, start_response):
    query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    token = next((v for k, v in query if k == "bench_token"), None)
    if token is not None:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        environ["QUERY_STRING"] = urlencode([(k, v) for k, v in query if k != "bench_token"])
    return _inner(environ, start_response)


app.wsgi_app = _token_to_header
