{%- set classification = cookiecutter.task == "classification" -%}
def outputs(model, rows: np.ndarray) -> np.ndarray:
    """What the service's predict() must give for ``rows``: {% if classification %}class probabilities{% else %}one value per row{% endif %}."""
{%- if classification %}
    return model.predict_proba(rows)
{%- else %}
    return model.predict(rows).reshape(len(rows), -1)
{%- endif %}