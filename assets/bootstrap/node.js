// Portico's Lambda bootstrap for Node.js: loads `module.function` from
// $LAMBDA_TASK_ROOT and serves invocations through the AWS Lambda Runtime
// API at $AWS_LAMBDA_RUNTIME_API, as AWS's node runtime does. Handlers may be
// async, return a promise, or take a callback. Node's standard library only.
'use strict';

const http = require('http');
const path = require('path');
const fs = require('fs');
const { pathToFileURL } = require('url');

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const BASE = '/2018-06-01/runtime';

function call(method, route, body, headers) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const req = http.request({ host, port, method, path: BASE + route,
      headers: Object.assign({ 'Content-Type': 'application/json' }, headers || {}, data ? { 'Content-Length': data.length } : {}) },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString() }));
      });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

function errorBody(error, type, requestId) {
  const err = error instanceof Error ? error : new Error(String(error));
  return {
    errorType: type || err.name || 'Error',
    errorMessage: err.message,
    requestId: requestId || '',
    trace: (err.stack || '').split('\n'),
  };
}

async function loadHandler() {
  const handler = process.env._HANDLER;
  const dot = handler.lastIndexOf('.');
  const moduleName = handler.slice(0, dot);
  const functionName = handler.slice(dot + 1);
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
  let mod;
  try {
    const base = path.resolve(root, moduleName);
    const file = ['.js', '.mjs', '.cjs'].map((ext) => base + ext).find((f) => fs.existsSync(f));
    if (!file) throw new Error(`Cannot find module '${moduleName}'`);
    mod = file.endsWith('.mjs') ? await import(pathToFileURL(file).href) : require(file);
  } catch (error) {
    const body = errorBody(error, 'Runtime.ImportModuleError');
    body.errorMessage = `Error: ${error.message}`;
    console.error(`ERROR\t${JSON.stringify(body)}`);
    await call('POST', '/init/error', body, { 'Lambda-Runtime-Function-Error-Type': 'Runtime.ImportModuleError' });
    process.exit(1);
  }
  const fn = mod[functionName] || (mod.default && mod.default[functionName]);
  if (typeof fn !== 'function') {
    const body = { errorType: 'Runtime.HandlerNotFound', errorMessage: `${handler} is undefined or not exported`, trace: [] };
    console.error(`ERROR\t${JSON.stringify(body)}`);
    await call('POST', '/init/error', body, { 'Lambda-Runtime-Function-Error-Type': 'Runtime.HandlerNotFound' });
    process.exit(1);
  }
  return fn;
}

function invoke(fn, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (error, result) => {
      if (settled) return;
      settled = true;
      if (error) reject(error); else resolve(result);
    };
    try {
      const out = fn(event, context, callback);
      if (out && typeof out.then === 'function') {
        out.then((r) => callback(null, r), (e) => callback(e));
      } else if (fn.length < 3) {
        callback(null, out);
      }
    } catch (error) {
      callback(error);
    }
  });
}

async function main() {
  const fn = await loadHandler();
  for (;;) {
    const next = await call('GET', '/invocation/next');
    const requestId = next.headers['lambda-runtime-aws-request-id'];
    const deadline = Number(next.headers['lambda-runtime-deadline-ms'] || 0);
    if (next.headers['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'];
    const context = {
      awsRequestId: requestId,
      invokedFunctionArn: next.headers['lambda-runtime-invoked-function-arn'],
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    let event;
    try {
      event = next.body ? JSON.parse(next.body) : null;
      const result = await invoke(fn, event, context);
      await call('POST', `/invocation/${requestId}/response`, JSON.stringify(result === undefined ? null : result));
    } catch (error) {
      const body = errorBody(error, undefined, requestId);
      console.error(`${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify(body)}`);
      await call('POST', `/invocation/${requestId}/error`, body, { 'Lambda-Runtime-Function-Error-Type': 'Unhandled' });
    }
  }
}

main();
