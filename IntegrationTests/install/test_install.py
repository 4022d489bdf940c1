"""`mcp-push install|uninstall claude|codex|gemini` and `doctor` in a temporary HOME: what the user
already had survives byte for byte, a second run changes nothing, uninstall gives back the file as
it was, malformed files are left untouched, and the agents' CLIs (stand-ins recording their
arguments) are called as documented."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess

import pytest

STAND_IN = pathlib.Path(__file__).resolve().parent / "stand_in_agent.py"

CLAUDE_SETTINGS = """{
  "model": "opus",
  "permissions": {"allow": ["Bash(git:*)"], "deny": []},
  "hooks": {
    "Stop": [
      {
        "matcher": "",
        "hooks": [{"type": "command", "command": "afplay /System/Library/Sounds/Glass.aiff"}]
      }
    ],
    "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "~/bin/guard.sh"}]}]
  },
  "unknownFutureKey": {"nested": [1, 2.5e3, true, null, "\\u00e9t\\u00e9 ✓"]}
}
"""

CODEX_CONFIG = """# my codex config
model = "gpt-5-codex"   # the best one
approval_policy = "on-request"

[mcp_servers.context7]
command = "npx"
args = ["-y", "@upstash/context7-mcp"]  # docs lookup

# profiles below
[profiles.fast]
model = "gpt-5-mini"
"""

GEMINI_SETTINGS = """{
  // theme first
  "theme": "GitHub",
  "mcpServers": {
    "github": {"command": "gh-mcp", "args": ["--stdio"]}
  },
  /* keep this */
  "general": {"vimMode": true}
}
"""


class Home:
    """A temporary HOME with a PATH holding only the stand-ins asked for (and the basics)."""

    def __init__(self, root: pathlib.Path, binary: str, agents: tuple[str, ...]) -> None:
        self.root = root
        self.binary = os.path.realpath(binary)
        self.log = root / "argv.log"
        bin_dir = root / "bin"
        bin_dir.mkdir(parents=True)
        for agent in agents:
            shutil.copy(STAND_IN, bin_dir / agent)
            (bin_dir / agent).chmod(0o755)
        self.env = {"HOME": str(root), "PATH": f"{bin_dir}:/usr/bin:/bin", "STAND_IN_LOG": str(self.log),
                    "MCP_PUSH_STATE_DIR": str(root / "state"), "MCP_PUSH_CONFIG": os.devnull,
                    "XDG_CONFIG_HOME": "/nonexistent"}

    def run(self, *arguments: str, cwd: pathlib.Path | None = None, env: dict[str, str] | None = None):
        return subprocess.run([self.binary, *arguments], env={**self.env, **(env or {})}, cwd=cwd or self.root,
                              capture_output=True, text=True, timeout=60)

    def calls(self) -> list[list[str]]:
        return [json.loads(line) for line in self.log.read_text().splitlines()] if self.log.exists() else []

    def backups(self, path: pathlib.Path) -> list[pathlib.Path]:
        return sorted(path.parent.glob(path.name + ".mcp-push-backup-*"))


def our_hooks(settings: dict, agent: str) -> dict[str, list[str]]:
    return {event: [h["command"] for group in groups for h in group["hooks"] if h["command"].endswith(f"hook {agent}")]
            for event, groups in settings.get("hooks", {}).items()}


def test_claude_install_keeps_everything_and_uninstall_gives_the_file_back(binary, tmp_path):
    home = Home(tmp_path, binary, ("claude",))
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(CLAUDE_SETTINGS)

    done = home.run("install", "claude")
    assert done.returncode == 0, done.stderr
    assert home.calls() == [["claude", "mcp", "add", "--scope", "user", "mcp-push", "--", home.binary]]
    data = json.loads(settings.read_text())
    command = f"{home.binary} hook claude"
    assert our_hooks(data, "claude") == {"Stop": [command], "StopFailure": [command], "Notification": [command],
                                         "UserPromptSubmit": [command], "SessionStart": [command], "PermissionRequest": [command],
                                         "PreToolUse": []}
    assert data["hooks"]["Stop"][0]["hooks"][0]["command"] == "afplay /System/Library/Sounds/Glass.aiff"
    assert data["hooks"]["Stop"][1] == {"matcher": "", "hooks": [{"type": "command", "command": command, "timeout": 10}]}
    # The permission prompt waits for the phone (MCP_PUSH_APPROVAL_TIMEOUT, 120 s): its timeout is above that.
    assert data["hooks"]["PermissionRequest"] == [{"matcher": "", "hooks": [{"type": "command", "command": command, "timeout": 180}]}]
    assert data["unknownFutureKey"]["nested"][4] == "été ✓"
    # Untouched lines are still there as written.
    for line in ['  "model": "opus",', '  "permissions": {"allow": ["Bash(git:*)"], "deny": []},',
                 '    "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "~/bin/guard.sh"}]}]']:
        assert line in settings.read_text().splitlines() or line + "," in settings.read_text().splitlines()
    [backup] = home.backups(settings)
    assert backup.read_text() == CLAUDE_SETTINGS

    again = home.run("install", "claude")
    assert again.returncode == 0
    assert "Nothing to change" in again.stdout
    assert len(home.calls()) == 1, "a second run calls nothing"
    assert len(home.backups(settings)) == 1, "and writes nothing"

    removed = home.run("uninstall", "claude")
    assert removed.returncode == 0, removed.stderr
    assert home.calls()[-1] == ["claude", "mcp", "remove", "--scope", "user", "mcp-push"]
    assert settings.read_text() == CLAUDE_SETTINGS, "uninstall removes exactly what install added"
    assert json.loads((tmp_path / ".claude.json").read_text())["mcpServers"] == {}


def test_claude_without_its_cli_prints_the_command_and_still_wires_the_hooks(binary, tmp_path):
    home = Home(tmp_path, binary, ())
    done = home.run("install", "claude")
    assert done.returncode == 0, done.stderr
    assert f"register it with: claude mcp add --scope user mcp-push -- {home.binary}" in done.stdout
    data = json.loads((tmp_path / ".claude" / "settings.json").read_text())
    assert set(our_hooks(data, "claude")) == {"Stop", "StopFailure", "Notification", "UserPromptSubmit", "SessionStart", "PermissionRequest"}
    assert "(new file)" in done.stdout


@pytest.mark.parametrize("scope, file", [("project", ".claude/settings.json"), ("local", ".claude/settings.local.json")])
def test_claude_project_and_local_scopes(binary, tmp_path, scope, file):
    home = Home(tmp_path, binary, ("claude",))
    project = tmp_path / "work" / "shop-api"
    project.mkdir(parents=True)
    done = home.run("install", "claude", "--scope", scope, cwd=project)
    assert done.returncode == 0, done.stderr
    assert home.calls() == [["claude", "mcp", "add", "--scope", scope, "mcp-push", "--", home.binary]]
    assert "Stop" in json.loads((project / file).read_text())["hooks"]
    assert not (tmp_path / ".claude" / "settings.json").exists()


def test_codex_notify_server_table_and_hooks_with_comments_kept(binary, tmp_path):
    home = Home(tmp_path, binary, ())
    config = tmp_path / ".codex" / "config.toml"
    config.parent.mkdir()
    config.write_text(CODEX_CONFIG)
    done = home.run("install", "codex")
    assert done.returncode == 0, done.stderr
    text = config.read_text()
    notify = f'notify = ["{home.binary}", "hook", "codex"]'
    # Top-level keys come before the first table: notify goes there, after the user's own.
    assert text.startswith(CODEX_CONFIG.split("[mcp_servers.context7]")[0] + notify + "\n\n[mcp_servers.context7]"), text
    assert "# profiles below\n[profiles.fast]\nmodel = \"gpt-5-mini\"\n" in text
    assert text.endswith(f'[mcp_servers.mcp-push]\ncommand = "{home.binary}"\n')
    hooks = json.loads((tmp_path / ".codex" / "hooks.json").read_text())
    assert set(our_hooks(hooks, "codex")) == {"StopFailure", "UserPromptSubmit", "PermissionRequest"}

    assert "Nothing to change" in home.run("install", "codex").stdout
    removed = home.run("uninstall", "codex")
    assert removed.returncode == 0, removed.stderr
    assert config.read_text() == CODEX_CONFIG
    assert not (tmp_path / ".codex" / "hooks.json").exists(), "the hooks file install created is gone"


def test_codex_with_its_cli_registers_through_it(binary, tmp_path):
    home = Home(tmp_path, binary, ("codex",))
    done = home.run("install", "codex")
    assert done.returncode == 0, done.stderr
    assert home.calls() == [["codex", "mcp", "add", "mcp-push", "--", home.binary]]
    assert "[mcp_servers.mcp-push]" not in (tmp_path / ".codex" / "config.toml").read_text()


def test_codex_notify_of_another_program_is_never_overwritten(binary, tmp_path):
    home = Home(tmp_path, binary, ())
    config = tmp_path / ".codex" / "config.toml"
    config.parent.mkdir()
    original = 'notify = ["terminal-notifier", "-title", "Codex"]\n'
    config.write_text(original)
    done = home.run("install", "codex")
    assert done.returncode == 0, done.stderr
    assert "notify is set to another program and was left as is" in done.stdout
    assert f'notify = ["{home.binary}", "hook", "codex"]' in done.stdout
    assert config.read_text().startswith(original)
    home.run("uninstall", "codex")
    assert config.read_text() == original


def test_gemini_hooks_in_milliseconds_enabled_and_removed_again(binary, tmp_path):
    home = Home(tmp_path, binary, ("gemini",))
    settings = tmp_path / ".gemini" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(GEMINI_SETTINGS)
    done = home.run("install", "gemini")
    assert done.returncode == 0, done.stderr
    assert home.calls() == [["gemini", "mcp", "add", "-s", "user", "mcp-push", home.binary]]
    text = settings.read_text()
    assert "// theme first" in text and "/* keep this */" in text
    without_comments = "\n".join(line for line in text.splitlines() if not line.strip().startswith(("//", "/*")))
    data = json.loads(without_comments)
    assert data["tools"] == {"enableHooks": True}
    assert data["hooks"]["AfterAgent"] == [{"hooks": [{"type": "command", "command": f"{home.binary} hook gemini", "timeout": 10000}]}]
    assert set(our_hooks(data, "gemini")) == {"AfterAgent", "Notification", "BeforeAgent"}
    assert home.run("uninstall", "gemini").returncode == 0
    assert home.calls()[-1] == ["gemini", "mcp", "remove", "-s", "user", "mcp-push"]
    assert settings.read_text() == GEMINI_SETTINGS


def test_gemini_without_its_cli_writes_the_server_entry(binary, tmp_path):
    home = Home(tmp_path, binary, ())
    assert home.run("install", "gemini").returncode == 0
    data = json.loads((tmp_path / ".gemini" / "settings.json").read_text())
    assert data["mcpServers"] == {"mcp-push": {"command": home.binary}}
    assert home.run("uninstall", "gemini").returncode == 0
    assert not (tmp_path / ".gemini" / "settings.json").exists()


@pytest.mark.parametrize("broken, where", [('{\n  "hooks": {\n    "Stop": [,]\n  }\n}\n', "line 3, column 14"),
                                           ("", "the file is empty"), ("[1, 2]", "the top level is not a JSON object"),
                                           ('{"hooks": "none"}', '"hooks" is not a JSON object')])
def test_a_file_it_cannot_parse_is_left_untouched_and_named(binary, tmp_path, broken, where):
    home = Home(tmp_path, binary, ("claude",))
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_bytes(broken.encode())
    done = home.run("install", "claude")
    if broken == "":
        # An empty file holds nothing to keep: it is treated as {}.
        assert done.returncode == 0, done.stderr
        return
    assert done.returncode == 2
    assert f"cannot edit ~/.claude/settings.json: {where}" in done.stderr, done.stderr
    assert "left untouched" in done.stderr
    assert settings.read_bytes() == broken.encode()
    assert home.calls() == [], "nothing is run when a file cannot be edited"
    assert home.backups(settings) == []


def test_dry_run_shows_the_diff_and_changes_nothing(binary, tmp_path):
    home = Home(tmp_path, binary, ("claude",))
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(CLAUDE_SETTINGS)
    done = home.run("install", "claude", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert f"would run: claude mcp add --scope user mcp-push -- {home.binary}" in done.stdout
    assert "--- ~/.claude/settings.json" in done.stdout
    assert f'+            "command": "{home.binary} hook claude",' in done.stdout
    assert settings.read_text() == CLAUDE_SETTINGS and home.calls() == [] and home.backups(settings) == []


def test_a_failing_agent_cli_is_reported_with_exit_1(binary, tmp_path):
    home = Home(tmp_path, binary, ("claude",))
    done = home.run("install", "claude", env={"STAND_IN_FAIL": "claude"})
    assert done.returncode == 1
    assert "FAILED (exit 1): claude mcp add" in done.stdout and "something went wrong" in done.stdout


def test_doctor_finds_a_stale_path_and_install_repairs_it(binary, tmp_path):
    home = Home(tmp_path, binary, ())
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    stale = "/opt/old/bin/mcp-push hook claude"
    settings.write_text(json.dumps({"hooks": {"Stop": [{"matcher": "", "hooks": [{"type": "command", "command": stale}]}]}}))
    bark = {"BARK_PUSH": "DoctorDeviceKey0123", "MCP_PUSH_BARK_BASE_URL": "http://127.0.0.1:9"}
    doctor = home.run("doctor", "--json", env=bark)
    assert doctor.returncode == 1
    report = json.loads(doctor.stdout)
    [broken] = [c for c in report["checks"] if c["state"] == "broken"]
    assert "runs /opt/old/bin/mcp-push, which does not exist (stale)" in broken["detail"]
    fixed = home.run("install", "claude")
    assert "updated Stop" in fixed.stdout
    after = home.run("doctor", env=bark)
    assert after.returncode == 0, after.stdout
    assert "Claude Code: hooks (user): Stop, StopFailure, Notification, UserPromptSubmit, SessionStart, PermissionRequest" in after.stdout
    assert "DoctorDeviceKey0123" not in after.stdout


def test_doctor_says_when_nothing_would_be_sent(binary, tmp_path):
    home = Home(tmp_path, binary, ())
    done = home.run("doctor")
    assert done.returncode == 1
    assert "BROKEN no channel configured: nothing would be sent" in done.stdout
    assert "Claude Code: not installed here" in done.stdout
    # Claude Code creates ~/.claude on its first run, before any settings file: it is installed, not set up.
    (tmp_path / ".claude").mkdir()
    again = home.run("doctor")
    assert "Claude Code: mcp-push is not set up; run `mcp-push install claude`" in again.stdout


def test_doctor_says_how_levels_route_and_who_answers(binary, tmp_path):
    home = Home(tmp_path, binary, ())
    env = {"BARK_PUSH": "DoctorDeviceKey0123", "TG_BOT_TOKEN": "123:secretbit", "TG_USER_ID": "42",
           "MCP_PUSH_ROUTES": "critical,error=telegram;info=bark", "MCP_PUSH_LEVEL_BARK": "success", "MCP_PUSH_QUIET_HOURS": "22:00-07:30",
           "MCP_PUSH_QUIET_MODE": "hold"}
    done = home.run("doctor", "--json", env=env)
    details = {c["area"]: [] for c in json.loads(done.stdout)["checks"]}
    for check in json.loads(done.stdout)["checks"]:
        details[check["area"]].append(check["detail"])
    assert "error messages go to telegram (MCP_PUSH_ROUTES)" in details["Delivery"]
    assert "bark gets success messages and up (MCP_PUSH_LEVEL_BARK)" in details["Delivery"]
    assert "quiet hours 22:00-07:30 (held until they end, below critical)" in details["Delivery"]
    assert any(d.startswith("permission prompts and notify_ask answered from telegram") for d in details["Approvals"])
    assert "secretbit" not in done.stdout
    bad = home.run("doctor", env={**env, "MCP_PUSH_ROUTES": "urgent=bark"})
    assert bad.returncode != 0 and "MCP_PUSH_ROUTES" in bad.stdout + bad.stderr


def test_the_installed_hook_command_runs_as_the_agent_would_run_it(binary, tmp_path):
    home = Home(tmp_path, binary, ())
    assert home.run("install", "claude").returncode == 0
    data = json.loads((tmp_path / ".claude" / "settings.json").read_text())
    command = data["hooks"]["Stop"][0]["hooks"][0]["command"]
    payload = json.dumps({"hook_event_name": "Stop", "session_id": "s1", "cwd": str(tmp_path), "last_assistant_message": "done"})
    done = subprocess.run(["/bin/sh", "-c", command], input=payload, env={**home.env, "BARK_PUSH": ""},
                          capture_output=True, text=True, timeout=20)
    assert done.returncode == 0 and done.stdout == ""


def test_a_settings_file_that_is_a_link_stays_a_link_with_its_permissions(binary, tmp_path):
    home = Home(tmp_path, binary, ())
    real = tmp_path / "dotfiles" / "claude.json"
    real.parent.mkdir()
    real.write_text('{"model": "opus"}\n')
    real.chmod(0o600)
    link = tmp_path / ".claude" / "settings.json"
    link.parent.mkdir()
    link.symlink_to("../dotfiles/claude.json")
    assert home.run("install", "claude").returncode == 0
    assert link.is_symlink() and "Stop" in json.loads(real.read_text())["hooks"]
    assert real.stat().st_mode & 0o777 == 0o600
    assert home.run("uninstall", "claude").returncode == 0
    assert link.is_symlink() and real.read_text() == '{"model": "opus"}\n'
