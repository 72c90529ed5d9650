"""The generated CI pipelines, read as a runner would read them.

Each CI system's file, the published schema it must satisfy, and its steps
as shell scripts with their environment, in the order the runner runs them,
so that tests can run the ones that need no hosted runner on this machine.
"""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from support.processes import run, tool

# CI answer -> the file its pipeline lives in, and check-jsonschema's built-in schema for it.
CI_FILES = {"github": ".github/workflows/ci.yml", "gitlab": ".gitlab-ci.yml"}
CI_SCHEMAS = {"github": "vendor.github-workflows", "gitlab": "vendor.gitlab-ci"}

# Jobs whose scripts run here, in pipeline order: lint, the service's tests,
# then the CPU image built, run and smoke-tested.
RUNNABLE_JOBS = ("lint", "test", "build")
# Jobs that need what only the hosted runner has, and why.
RUNNER_ONLY_JOBS = {
    "template": "`cruft check` of a cruft-created project against its template's git host",
    "release": "runs on a version tag only, and logs in and pushes to a registry",
}


@dataclass
class Step:
    job: str
    name: str
    script: str
    env: dict[str, str]
    # "success": only if the job has not failed; "failure": only if it has; "always".
    when: str = "success"
    timeout_seconds: float = 600


def validate_ci_file(path: Path, ci: str) -> subprocess.CompletedProcess:
    """check-jsonschema against the CI system's published schema (vendored, offline)."""
    return run([tool("check-jsonschema"), "--builtin-schema", CI_SCHEMAS[ci], str(path)], check=False)


def pipeline_steps(project: Path, ci: str) -> list[Step]:
    document = yaml.safe_load((project / CI_FILES[ci]).read_text())
    return github_steps(document) if ci == "github" else gitlab_steps(document)


def _check_jobs(names: set[str]) -> None:
    # A job neither run here nor explained would be skipped silently.
    assert names == set(RUNNABLE_JOBS) | set(RUNNER_ONLY_JOBS), f"jobs {sorted(names)}: update RUNNABLE_JOBS"


GITHUB_CONDITIONS = {None: "success", "success()": "success", "failure()": "failure", "always()": "always"}


def github_steps(workflow: dict) -> list[Step]:
    """The `run:` steps of the runnable jobs; `uses:` steps (checkout, setup-python,
    setup-buildx) provision the hosted runner and have nothing to run here."""
    jobs = workflow["jobs"]
    _check_jobs(set(jobs))
    steps = []
    for name in RUNNABLE_JOBS:
        job = jobs[name]
        assert "if" not in job, f"job {name} is conditional: {job['if']}"
        for step in job["steps"]:
            if "uses" in step:
                continue
            condition = step.get("if")
            assert condition in GITHUB_CONDITIONS, f"{name}: cannot evaluate `if: {condition}` here"
            env = {**workflow.get("env", {}), **job.get("env", {}), **step.get("env", {})}
            assert not any("${{" in str(value) for value in env.values()), f"{name}: an expression in env {env}"
            assert "${{" not in step["run"], f"{name}: an expression in `run:` {step['run']}"
            steps.append(
                Step(
                    job=name,
                    name=step.get("name", step["run"]),
                    script=step["run"],
                    env={key: str(value) for key, value in env.items()},
                    when=GITHUB_CONDITIONS[condition],
                    timeout_seconds=60 * job["timeout-minutes"],
                )
            )
    return steps


def _gitlab_job(pipeline: dict, name: str) -> dict:
    """A job with its `extends` (one level, as in the template) merged in."""
    job = dict(pipeline[name])
    base = pipeline.get(job.pop("extends", ""), {})
    merged = {**base, **job}
    merged["variables"] = {**base.get("variables", {}), **job.get("variables", {})}
    return merged


def _gitlab_minutes(timeout: str) -> int:
    match = re.fullmatch(r"(\d+) minutes?", timeout)
    assert match, f"timeout {timeout!r}: write it as 'N minutes'"
    return int(match.group(1))


def gitlab_steps(pipeline: dict) -> list[Step]:
    """`script` and `after_script` of the runnable jobs.  `before_script` only
    provisions the job's image (apt/apk installs, registry login, cache pull),
    which this machine already is."""
    jobs = {name for name, value in pipeline.items() if isinstance(value, dict) and "script" in value}
    jobs -= {name for name in jobs if name.startswith(".")}
    _check_jobs(jobs)
    stages = pipeline["stages"]
    default_timeout = pipeline.get("default", {}).get("timeout", "60 minutes")
    steps = []
    for name in sorted(RUNNABLE_JOBS, key=lambda job: stages.index(pipeline[job]["stage"])):
        job = _gitlab_job(pipeline, name)
        assert "rules" not in job and "only" not in job, f"job {name} is conditional"
        env = {key: str(value) for key, value in {**pipeline.get("variables", {}), **job["variables"]}.items()}
        seconds = 60 * _gitlab_minutes(job.get("timeout", default_timeout))
        steps.append(Step(name, "script", "\n".join(job["script"]), env, "success", seconds))
        if "after_script" in job:
            steps.append(Step(name, "after_script", "\n".join(job["after_script"]), env, "always", seconds))
    return steps


@dataclass
class StepResult:
    step: Step
    returncode: int
    output: str

    def describe(self) -> str:
        return f"[{self.step.job}] {self.step.name}: exit {self.returncode}\n{self.output[-4000:]}"


def run_steps(
    steps: list[Step], project: Path, env: dict[str, str], overrides: dict[str, dict[str, str]]
) -> list[StepResult]:
    """Run the steps as the runner would: each job's steps in order with
    `bash -eo pipefail`, later steps of a failed job skipped unless they run
    on failure or always; every job runs, as on the runner.  `overrides`
    (job -> variables) replace the pipeline's own variables in that job where
    this machine differs from a hosted runner (the caller says which and why)."""
    results: list[StepResult] = []
    failed_jobs: set[str] = set()
    for step in steps:
        failed = step.job in failed_jobs
        if (step.when == "success" and failed) or (step.when == "failure" and not failed):
            continue
        try:
            done = subprocess.run(
                ["bash", "-eo", "pipefail", "-c", step.script],
                cwd=project,
                env={**env, **step.env, **overrides.get(step.job, {})},
                capture_output=True,
                text=True,
                timeout=step.timeout_seconds,
                check=False,
            )
            result = StepResult(step, done.returncode, done.stdout + done.stderr)
        except subprocess.TimeoutExpired as timeout:
            result = StepResult(step, -1, f"over the job's timeout of {step.timeout_seconds} s\n{timeout.stdout or ''}")
        results.append(result)
        if result.returncode != 0:
            failed_jobs.add(step.job)
    return results
