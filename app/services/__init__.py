"""Domain logic. Services change the session; the view, job or command commits."""
