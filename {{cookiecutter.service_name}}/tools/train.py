{%- set classification = cookiecutter.task == "classification" -%}
{%- set framework = cookiecutter._frameworks[cookiecutter.model_framework] -%}
"""Train the example {{ cookiecutter.task }} model and save it for {{ framework.runtime }}, reproducibly.

    make train        # or: python tools/train.py --output model/{{ framework.artifact }} [--force]

Writes the model and, beside it, its SHA-256 (``{{ framework.artifact }}.sha256``, checked
by the service at start-up), ``metadata.json`` (name, version, task, feature
names{% if classification %}, class labels{% endif %}) and ``example.json``: a few input rows and the
outputs the trained model gives for them, which the tests, ``make smoke``,
``make bench`` and the OpenAPI examples use.  Running it twice with the
pinned requirements-train.txt produces {% if cookiecutter.model_framework == "sklearn" %}the same predictions (not the same
bytes: skops names the arrays in the file after object ids){% elif cookiecutter.model_framework == "pytorch" %}the same predictions on the same
kind of CPU (PyTorch's float32 kernels differ between CPUs, so another machine's
model may differ in the last digits, and a regressor by a few per cent after
training; the same bytes only from the same directory: TorchScript records this
file's path){% else %}byte-identical files{% endif %}.  It refuses to
replace a model file it did not make (your own) unless given ``--force``.
"""

{% include "train/" ~ cookiecutter.model_framework ~ ".py" %}
{%- if classification %}

NAME = f"iris-{MODEL_KIND}"
# Rows of the data set sent as the example: one flower of each species.
EXAMPLE_ROWS = (0, 51, 145)
{%- else %}

NAME = f"diabetes-{MODEL_KIND}"
# Rows of the data set sent as the example.
EXAMPLE_ROWS = (0, 1, 2)
{%- endif %}
VERSION = "1.0.0"


def data():
    """The data set's rows (float64, as published), its targets, and the metadata the service reports."""
{%- if classification %}
    dataset = load_iris()
    feature_names = [name.removesuffix(" (cm)").replace(" ", "_") for name in dataset.feature_names]
    extra = {"labels": [str(name) for name in dataset.target_names]}
{%- else %}
    dataset = load_diabetes(scaled=False)  # the measurements as recorded (age in years, ...)
    feature_names = list(dataset.feature_names)
    extra = {}
{%- endif %}
    metadata = {"name": NAME, "version": VERSION, "task": "{{ cookiecutter.task }}", "feature_names": feature_names, **extra}
    return dataset.data, dataset.target, metadata


def one_row_per_line(example: dict) -> str:
    """example.json, readable: one instance or output per line."""
    fields = []
    for key, value in example.items():
        if isinstance(value, list):
            value = "[\n" + ",\n".join(f"    {json.dumps(row)}" for row in value) + "\n  ]"
        else:
            value = json.dumps(value)
        fields.append(f"  {json.dumps(key)}: {value}")
    return "{\n" + ",\n".join(fields) + "\n}\n"


def made_here(path: Path) -> bool:
    """Whether ``path`` is, unchanged, a model this script wrote (its checksum and metadata.json say so)."""
    sidecar, metadata = path.with_name(path.name + ".sha256"), path.with_name("metadata.json")
    if not (sidecar.exists() and metadata.exists()):
        return False
    recorded = sidecar.read_text().split()[:1]
    unchanged = recorded == [hashlib.sha256(path.read_bytes()).hexdigest()]
    return unchanged and json.loads(metadata.read_text()).get("name") == NAME


def write_refusing_foreign(path: Path, data: bytes, force: bool) -> None:
    """Write ``data`` to ``path``, unless ``path`` holds something else and ``force`` is off."""
    if path.exists() and path.read_bytes() != data and not made_here(path) and not force:
        raise SystemExit(
            f"train.py: {path} exists and is not the model this script makes (your own?); nothing written.\n"
            "  Keep it and train elsewhere: make train MODEL_PATH=model/example-{{ framework.artifact }}\n"
            "  or replace it:               make train FORCE=1"
        )
    path.write_bytes(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("model/{{ framework.artifact }}"))
    parser.add_argument("--force", action="store_true", help="replace a model file train.py did not make")
    args = parser.parse_args()

    raw_rows, targets, metadata = data()
    features = raw_rows.astype(np.float32)
    model = train(features, targets)
    serialized = save(model, features)
    difference = check_saved(serialized, model, features)
    if difference > TOLERANCE:
        raise SystemExit(f"the saved model differs from the trained one by {difference:.2g} (over {TOLERANCE})")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_refusing_foreign(args.output, serialized, args.force)
    digest = hashlib.sha256(serialized).hexdigest()
    args.output.with_name(args.output.name + ".sha256").write_text(f"{digest}  {args.output.name}\n")
    args.output.with_name("metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
    rows = raw_rows[list(EXAMPLE_ROWS)]
    example = {
        "instances": rows.tolist(),
        "outputs": outputs(model, rows.astype(np.float32)).tolist(),
        "tolerance": TOLERANCE,
    }
    args.output.with_name("example.json").write_text(one_row_per_line(example))
    print(f"wrote {args.output} ({len(serialized)} bytes, sha256 {digest}), metadata.json and example.json")


if __name__ == "__main__":
    main()
