"""Run one built function as Lambda would, in a bare interpreter:
`python -S lambda_runner.py TASK LAYER RUNTIME TIMEOUT_S`.

sys.path is only the function's built code (/var/task), the built layer (/opt/python) and the runtime's boto3, as on
Lambda (https://docs.aws.amazon.com/lambda/latest/dg/python-package.html#python-package-searchpath). Reads the
event as JSON on stdin, prints the handler's answer as JSON on stdout. Nothing from the dev venv is importable.
"""

import json
import sys
import time
import uuid

task, layer, runtime, timeout_s = sys.argv[1:5]
sys.path[:0] = [task, layer, runtime]


class Context:
    function_name = "built"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:built"
    aws_request_id = str(uuid.uuid4())
    log_group_name = "/aws/lambda/built"
    _deadline = time.monotonic() + float(timeout_s)

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


import app  # noqa: E402  (the function's module, found on the path set above)

event = json.loads(sys.stdin.read())
print(json.dumps(app.lambda_handler(event, Context()), default=str))
