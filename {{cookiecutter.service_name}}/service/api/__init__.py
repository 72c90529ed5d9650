"""The native HTTP API: one blueprint per concern, all listed in ``BLUEPRINTS``.

Your routes go here: write a blueprint in a module of this package (see
ops.py for the pattern), document each view with ``@operation(...)`` so it
is in /openapi.json (``public=True`` if it must answer without API_KEY), and
add the blueprint to ``BLUEPRINTS``: service/app.py registers exactly these.
"""

from service.api import docs, ops, predict

BLUEPRINTS = [
    predict.blueprint,
    ops.blueprint,
    docs.blueprint,
    docs.swagger_ui,
]
