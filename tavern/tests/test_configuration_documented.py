"""Every environment variable the settings read is in README's configuration table and
in .env.example, and neither lists one that nothing reads."""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings

SETTINGS_DIR = Path(settings.BASE_DIR) / "tavern" / "settings"
# Read outside tavern/settings: by the start-up code that runs before settings load
# (tavern/supervisor.py: PORT, HOST, WEB_WORKERS),
# and by boto3 itself.
READ_ELSEWHERE = {
    "TAVERN_VAR_DIR",
    "PORT",
    "HOST",
    "WEB_WORKERS",
    "DJANGO_SETTINGS_MODULE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
}
# Names built in a loop: f"{provider.upper()}_CLIENT_ID" for each social provider.
BUILT_NAMES = {"GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "DISCORD_CLIENT_ID", "DISCORD_CLIENT_SECRET"}
_ENV_READERS = {"str", "bool", "int", "float", "list", "db", "email_url", "dict", "json", "url", "path"}


def settings_variables() -> set[str]:
    names: set[str] = set()
    for path in SETTINGS_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            func = node.func
            reads_env = (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "env"
                and func.attr in _ENV_READERS
            ) or (isinstance(func, ast.Name) and func.id == "env")
            reads_os = (
                isinstance(func, ast.Attribute)
                and func.attr == "get"
                and isinstance(func.value, ast.Attribute)
                and func.value.attr == "environ"
            )
            if reads_env or reads_os:
                names.add(first.value)
    return names | BUILT_NAMES | READ_ELSEWHERE


def readme_variables() -> set[str]:
    text = (Path(settings.BASE_DIR) / "README.md").read_text()
    table = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def env_example_variables() -> set[str]:
    text = (Path(settings.BASE_DIR) / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_every_variable_the_settings_read_is_in_the_readme():
    assert sorted(settings_variables() - readme_variables()) == []


def test_every_variable_the_settings_read_is_in_env_example():
    assert sorted(settings_variables() - env_example_variables()) == []


def test_env_example_copied_as_it_is_changes_no_default():
    """Its values are empty (a comment after "=" would become the value)."""
    values: dict[str, str] = {}
    text = (Path(settings.BASE_DIR) / ".env.example").read_text()
    for line in text.splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name] = value

    assert {name: value for name, value in values.items() if value} == {
        "DJANGO_SETTINGS_MODULE": "tavern.settings.local"
    }


def test_the_readme_and_env_example_list_nothing_that_is_not_read():
    read = settings_variables()

    assert (sorted(readme_variables() - read), sorted(env_example_variables() - read)) == ([], [])


# What a run needs from its own environment, whatever .env.example says.
_KEPT = {"TAVERN_VAR_DIR", "TAVERN_TEST_DB", "DJANGO_SETTINGS_MODULE"}
_SETTINGS_DUMP = """
import json
from django.conf import settings
values = {name: repr(getattr(settings, name)) for name in dir(settings) if name.isupper()}
print(json.dumps({name: value for name, value in values.items() if " at 0x" not in value}))
"""


def _settings_with(variables: dict[str, str]) -> dict[str, str]:
    """Every setting as the settings module computes it with `variables` in the environment
    (and no other variable of .env.example)."""
    environment = {name: value for name, value in os.environ.items() if name not in env_example_variables()}
    environment |= {name: os.environ[name] for name in _KEPT if name in os.environ}
    # A fixed hash seed: sets (ACCOUNT_LOGIN_METHODS) print in the same order in both runs.
    environment |= {"DJANGO_SETTINGS_MODULE": "tavern.settings.local", "PYTHONHASHSEED": "0", **variables}
    done = subprocess.run(
        [sys.executable, "-c", _SETTINGS_DUMP],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_env_example_copied_as_it_is_gives_every_default():
    """Its empty values mean "the default", as its first lines say."""
    empty = dict.fromkeys(env_example_variables() - _KEPT, "")

    unset, copied = _settings_with({}), _settings_with(empty)

    assert {name for name in unset.keys() | copied.keys() if unset.get(name) != copied.get(name)} == set()
