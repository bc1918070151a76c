"""The production app plus one bare endpoint, so a benchmark can compare in one server."""

from flask import Response

from app import create_app

app = create_app()


@app.post("/bench/bare")
def bare():
    """Answers like the callback does when it has nothing to say, and does nothing else."""
    return Response("success", mimetype="text/plain")
