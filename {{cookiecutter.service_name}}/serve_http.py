"""The WSGI entry point: ``app`` is what gunicorn serves (``serve_http:app``).

The service itself is the ``service`` package; ``service.app.create_app``
builds it (see the README's "Where to change what").
"""

from service.app import create_app

app = create_app()

if __name__ == "__main__":
    raise SystemExit("serve with gunicorn: `make dev` locally, or build the image (`make build run`)")
