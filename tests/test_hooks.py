"""Every bad answer stops generation with a message naming the question,
the value and the rule, and leaves nothing behind."""

import pytest

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
    ({"python_version": "3.9"}, "python_version"),
    ({"python_version": "3.15"}, "python_version"),
    ({"cuda_version": "11.8.0"}, "cuda_version"),
    ({"include_gpu": "maybe"}, "include_gpu"),
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
