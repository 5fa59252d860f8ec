import subprocess
import sys

SCRIPT = """
import logging, sys
from graphgen.cli.app import main
sys.argv = ["graphgen", "--version"]
try:
    main()  # the console script's path: installs the handler
except SystemExit:
    pass
from graphgen.cli.app import log_to_stderr
log_to_stderr()  # a second call adds no second handler
native = logging.getLogger("graphgen.native")
native.info("building the test kernel")
native.debug("not shown")
logging.getLogger("elsewhere").warning("not graphgen's")
"""


def test_the_console_script_prints_graphgen_log_messages_on_stderr_once_each():
    """A kernel build's INFO notice reaches the user as one ``graphgen: ...`` line on stderr
    (stdout keeps the results); DEBUG stays silent; other libraries' loggers are left alone
    (Python's last-resort handler prints their bare warning)."""
    run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    assert run.stdout.startswith("graphgen ")  # --version
    assert run.stderr.splitlines() == ["graphgen: building the test kernel", "not graphgen's"]
