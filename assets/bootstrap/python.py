"""Portico's Lambda bootstrap for Python: loads `module.function` from
$LAMBDA_TASK_ROOT and serves invocations through the AWS Lambda Runtime API
at $AWS_LAMBDA_RUNTIME_API, as AWS's python runtime does. Standard library
only."""

import importlib
import json
import os
import sys
import time
import traceback
import urllib.request

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"


def post(path, body, headers=None):
    data = json.dumps(body).encode() if not isinstance(body, bytes) else body
    request = urllib.request.Request(API + path, data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    with urllib.request.urlopen(request) as response:
        response.read()


def error_body(error, error_type=None):
    return {
        "errorMessage": str(error),
        "errorType": error_type or type(error).__name__,
        "requestId": "",
        # The handler's frames only, as AWS's runtime reports them.
        "stackTrace": traceback.format_list(traceback.extract_tb(error.__traceback__)[1:])
        if error.__traceback__
        else [],
    }


class LambdaContext:
    def __init__(self, request_id, deadline_ms, arn):
        self.aws_request_id = request_id
        self.invoked_function_arn = arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


def load_handler():
    handler = os.environ["_HANDLER"]
    module_name, _, function_name = handler.rpartition(".")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except Exception as error:  # noqa: BLE001 - reported as AWS reports it
        message = "Unable to import module '%s': %s" % (module_name, error)
        print("[ERROR] Runtime.ImportModuleError: " + message, flush=True)
        post("/init/error", {"errorMessage": message, "errorType": "Runtime.ImportModuleError",
                             "requestId": "", "stackTrace": []},
             {"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"})
        sys.exit(1)
    function = getattr(module, function_name, None)
    if function is None:
        message = "Handler '%s' missing on module '%s'" % (function_name, module_name)
        print("[ERROR] Runtime.HandlerNotFound: " + message, flush=True)
        post("/init/error", {"errorMessage": message, "errorType": "Runtime.HandlerNotFound",
                             "requestId": "", "stackTrace": []},
             {"Lambda-Runtime-Function-Error-Type": "Runtime.HandlerNotFound"})
        sys.exit(1)
    return function


def main():
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()))
    handler = load_handler()
    while True:
        with urllib.request.urlopen(API + "/invocation/next") as response:
            request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
            deadline = int(response.headers.get("Lambda-Runtime-Deadline-Ms", "0"))
            arn = response.headers.get("Lambda-Runtime-Invoked-Function-Arn", "")
            trace = response.headers.get("Lambda-Runtime-Trace-Id")
            payload = response.read()
        if trace:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        context = LambdaContext(request_id, deadline, arn)
        try:
            event = json.loads(payload) if payload else None
            result = handler(event, context)
        except Exception as error:  # noqa: BLE001 - the handler's error goes back to the caller
            body = error_body(error)
            body["requestId"] = request_id
            print("[ERROR] %s: %s" % (body["errorType"], body["errorMessage"]), flush=True)
            user_frames = error.__traceback__.tb_next if error.__traceback__ else None
            print("".join(traceback.format_exception(type(error), error, user_frames)),
                  end="", flush=True)
            post("/invocation/%s/error" % request_id, body,
                 {"Lambda-Runtime-Function-Error-Type": "Unhandled"})
            continue
        try:
            encoded = json.dumps(result).encode()
        except (TypeError, ValueError) as error:
            message = "Unable to marshal response: %s" % error
            post("/invocation/%s/error" % request_id,
                 {"errorMessage": message, "errorType": "Runtime.MarshalError",
                  "requestId": request_id, "stackTrace": []},
                 {"Lambda-Runtime-Function-Error-Type": "Runtime.MarshalError"})
            continue
        post("/invocation/%s/response" % request_id, encoded)


if __name__ == "__main__":
    main()
