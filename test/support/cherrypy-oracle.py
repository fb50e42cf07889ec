#!/usr/bin/python3
# The argument oracle of the CherryPy differential tests: a real CherryPy server configured as the Ceph
# dashboard configures it, whose handlers are wrapped by the dashboard's own `_request_wrapper` (read from
# the installed ceph-mgr-dashboard sources, not copied) and answer with the arguments they received.
# The gateway must derive the same arguments from the same bytes, or refuse the request.
#
# Usage: /usr/bin/python3 cherrypy-oracle.py ROUTES_JSON [DASHBOARD_DIR]
#    or: /usr/bin/python3 - ROUTES_JSON [DASHBOARD_DIR] < cherrypy-oracle.py   (how cherrypy-oracle.ts runs it,
#        also inside the Reef chroot, whose Python cannot see this file)
# Pacific's and Reef's dashboards build arguments with the same two functions; Reef's `_request_wrapper`
# only differs in how it checks the version, which the oracle skips (version None).
#   ROUTES_JSON: [{"method": "PUT", "template": "/api/pool/{pool_name}", "allow_empty_body": false}, ...]
# Prints "READY <port>" once it listens on 127.0.0.1; every answer is
#   {"route": template, "args": {name: value or [values]}} (200), or CherryPy's own error page with its status.

import ast
import json
import sys
import types
from functools import wraps
from typing import Optional
from urllib.parse import unquote

import cherrypy

DASHBOARD = sys.argv[2] if len(sys.argv) > 2 else '/usr/share/ceph/mgr/dashboard'


def load_function(path, name, namespace, class_name=None):
    """Executes one function definition of a dashboard source file (decorators dropped) in `namespace`."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), filename=path)
    body = tree.body
    if class_name is not None:
        body = next(n for n in body if isinstance(n, ast.ClassDef) and n.name == class_name).body
    node = next(n for n in body if isinstance(n, ast.FunctionDef) and n.name == name)
    node.decorator_list = []
    module = ast.Module(body=[node], type_ignores=[])
    exec(compile(module, path, 'exec'), namespace)  # noqa: S102 - the dashboard's own code, by design
    return namespace[name]


# The two functions that build a handler's arguments: tools.get_request_body_params and
# BaseController._request_wrapper (which calls it). Their globals are what their modules import.
body_ns = {'cherrypy': cherrypy, 'json': json}
get_request_body_params = load_function(f'{DASHBOARD}/tools.py', 'get_request_body_params', body_ns)

class _AnyVersion:  # only used as an annotation: the oracle runs handlers without a version check
    pass

wrapper_ns = {
    'cherrypy': cherrypy, 'json': json, 'unquote': unquote, 'wraps': wraps, 'Optional': Optional,
    'APIVersion': _AnyVersion, 'get_request_body_params': get_request_body_params,
}
request_wrapper = load_function(f'{DASHBOARD}/controllers/_base_controller.py', '_request_wrapper', wrapper_ns, 'BaseController')


def echo_for(template):
    def echo(*args, **kwargs):
        return {'route': template, 'args': kwargs, 'positional': list(args)}
    return echo


def main():
    routes = json.loads(sys.argv[1])
    mapper = cherrypy.dispatch.RoutesDispatcher()
    for i, r in enumerate(routes):
        handler = request_wrapper(echo_for(r['template']), r['method'], True, False, None)
        if r.get('allow_empty_body'):
            # What the dashboard's @allow_empty_body decorator sets on a handler.
            handler._cp_config = {'tools.json_in.force': False}
        ctrl = types.SimpleNamespace(action=handler)
        # As dashboard/controllers/_helpers.py generate_controller_routes: the route and its trailing-slash twin.
        url = r['template']
        name = f'r{i}'
        mapper.connect(name, url, controller=ctrl, action='action', conditions={'method': [r['method']]})
        mapper.connect(name + '/', url + '/', controller=ctrl, action='action', conditions={'method': [r['method']]})

    def error_page(status, message, traceback, version):
        cherrypy.response.headers['Content-Type'] = 'application/json'
        return json.dumps({'status': status, 'detail': message})

    # The dashboard's global configuration (dashboard/module.py) as far as it shapes arguments.
    cherrypy.config.update({
        'engine.autoreload.on': False,
        'server.socket_host': '127.0.0.1',
        'server.socket_port': 0,
        'log.screen': False,
        'error_page.default': error_page,
        'tools.json_in.on': True,
        'tools.json_in.force': True,
    })
    config = {'/': {'request.dispatch': mapper}}
    cherrypy.tree.mount(None, config=config)
    cherrypy.engine.start()
    cherrypy.server.httpserver  # started by engine.start
    port = cherrypy.server.bound_addr[1]
    print(f'READY {port}', flush=True)
    cherrypy.engine.block()


if __name__ == '__main__':
    main()
