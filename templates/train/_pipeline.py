{%- set classification = cookiecutter.task == "classification" -%}
def train(features: np.ndarray, targets: np.ndarray):
    """A scikit-learn pipeline fitted on the float32 features the service will feed it."""
{%- if classification %}
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(features, targets)
{%- else %}
    return make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(features, targets)
{%- endif %}