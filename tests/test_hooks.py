"""Every bad answer stops generation with a message naming the question,
the value and the rule, and leaves nothing behind."""

import json
import shutil

import pytest

from support.processes import run, tool
from support.template import TEMPLATE

BAD_ANSWERS = [
    # (answers, text the error must contain)
    ({"service_name": "My Service"}, "service_name='My Service' is invalid: use lowercase letters and digits"),
    ({"service_name": "Upper"}, "service_name='Upper' is invalid"),
    ({"service_name": "-leading-dash"}, "service_name='-leading-dash' is invalid"),
    ({"service_name": "trailing."}, "service_name='trailing.' is invalid"),
    ({"service_name": "double--dash"}, "service_name='double--dash' is invalid"),
    ({"service_name": "mixed._separators"}, "service_name='mixed._separators' is invalid"),
    ({"service_name": "a/b"}, "service_name='a/b' is invalid"),
    ({"service_name": "../escape"}, "service_name='../escape' is invalid"),
    ({"service_name": "x" * 64}, "at most 63 characters"),
    ({"service_name": "naïve"}, "service_name='naïve' is invalid"),
    ({"service_name": ""}, "service_name='' is invalid"),
    ({"project_name": "   ", "service_name": "blank"}, "project_name='   ' is invalid: it must not be empty"),
    ({"project_name": "!!!"}, "service_name='' is invalid"),
    (
        {"project_name": "two\nlines", "service_name": "two-lines"},
        "project_name='two\\nlines' is invalid: it must be one line",
    ),
    ({"description": "x" * 201}, "description='xxxx"),
    ({"port": "0"}, "port='0' is invalid: it must be an integer from 1 to 65535"),
    ({"port": "65536"}, "port='65536' is invalid: it must be an integer from 1 to 65535"),
    ({"port": "http"}, "port='http' is invalid"),
    ({"port": "80.5"}, "port='80.5' is invalid"),
    ({"port": "-1"}, "port='-1' is invalid"),
    ({"port": "65535"}, "port='65535' is invalid: with include_gpu the GPU service uses port+1"),
    # Choice answers given on the command line are rejected by cookiecutter
    # itself, before the hook (replay files reach it: see below).
    ({"python_version": "3.9"}, "3.9 provided for choice variable python_version, but the choices are ['3.13'"),
    ({"python_version": "3.15"}, "3.15 provided for choice variable python_version"),
    ({"cuda_version": "11.8.0"}, "11.8.0 provided for choice variable cuda_version, but the choices are ['13.0.1'"),
    ({"include_gpu": "maybe"}, "include_gpu='maybe' is invalid: answer yes or no"),
    ({"ci": "jenkins"}, "jenkins provided for choice variable ci"),
    (
        {"system_packages": "ffmpeg; rm -rf /"},
        "system_packages='ffmpeg; rm -rf /' is invalid: 'ffmpeg;' is not a Debian package name",
    ),
    ({"system_packages": "libSM6"}, "'libSM6' is not a Debian package name"),
    ({"system_packages": "x"}, "'x' is not a Debian package name"),
    ({"system_packages": "curl $(id)"}, "'$(id)' is not a Debian package name"),
    ({"system_packages": "ffmpeg,libsm6"}, "'ffmpeg,libsm6' is not a Debian package name"),
]


def case_id(answers: dict) -> str:
    key = next(iter(answers))
    return f"{key}={answers[key]!r:.24}"


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS, ids=[case_id(a) for a, _ in BAD_ANSWERS])
def test_bad_answer_is_rejected_and_leaves_nothing(cookies, tmp_path, capfd, answers, message):
    result = cookies.bake(extra_context=answers)
    assert result.exit_code != 0
    assert result.exception is not None
    captured = capfd.readouterr()
    assert message in captured.out + captured.err + str(result.exception)
    # pytest-cookies makes an empty output directory per bake; nothing may be in it.
    output = tmp_path / "cookies"
    left = [p.relative_to(output) for p in output.rglob("*")] if output.exists() else []
    assert all(len(p.parts) == 1 and p.name.startswith("bake") for p in left), left
    assert not any((output / p).is_file() or any((output / p).iterdir()) for p in left), left


def cookiecutter(*args, cwd, check=True):
    return run([tool("cookiecutter"), *map(str, args)], cwd=cwd, check=check)


@pytest.fixture(scope="module")
def good_replay(tmp_path_factory) -> dict:
    """The replay file a real default bake writes."""
    work = tmp_path_factory.mktemp("replay")
    (work / "config.yaml").write_text(f"replay_dir: {work / 'replays'}\n")
    cookiecutter("--no-input", "--config-file", work / "config.yaml", "-o", work / "out", TEMPLATE, cwd=work)
    (replay,) = (work / "replays").glob("*.json")
    return json.loads(replay.read_text())


def replay_bad_answer(template, good_replay: dict, tmp_path, question: str, value):
    replay = json.loads(json.dumps(good_replay))
    replay["cookiecutter"][question] = value
    (tmp_path / "bad.json").write_text(json.dumps(replay))
    result = cookiecutter(
        "--replay-file", tmp_path / "bad.json", "-o", tmp_path / "out", template, cwd=tmp_path, check=False
    )
    assert result.returncode != 0
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    return result.stderr


@pytest.mark.parametrize(
    ("question", "value", "message"),
    [
        ("python_version", "3.9", "ERROR: python_version='3.9' is invalid: it must be one of 3.13, 3.12, 3.11, 3.14."),
        ("cuda_version", "11.8.0", "ERROR: cuda_version='11.8.0' is invalid: it must be one of 13.0.1, 13.0.2."),
        ("include_gpu", "maybe", "ERROR: include_gpu='maybe' is invalid: answer yes or no."),
        ("port", "70000", "ERROR: port='70000' is invalid: it must be an integer from 1 to 65535."),
    ],
)
def test_a_bad_replay_file_reaches_the_hook_and_gets_its_message(good_replay, tmp_path, question, value, message):
    stderr = replay_bad_answer(TEMPLATE, good_replay, tmp_path, question, value)
    assert f"{message} Nothing was generated." in stderr, stderr


def test_a_choice_question_added_to_cookiecutter_json_is_checked_with_no_hook_edit(good_replay, tmp_path):
    template = tmp_path / "template"
    for name in ("hooks", "{{cookiecutter.service_name}}"):
        shutil.copytree(TEMPLATE / name, template / name, ignore=shutil.ignore_patterns("__pycache__"))
    questions = json.loads((TEMPLATE / "cookiecutter.json").read_text())
    (template / "cookiecutter.json").write_text(json.dumps({**questions, "task": ["classify", "regress"]}))
    replay = {**good_replay, "cookiecutter": {**good_replay["cookiecutter"], "task": "classify"}}
    stderr = replay_bad_answer(template, replay, tmp_path, "task", "cluster")
    assert "ERROR: task='cluster' is invalid: it must be one of classify, regress. Nothing was generated." in stderr
