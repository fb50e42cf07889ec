#!/usr/bin/python3
# Prints, as JSON, every route the Ceph Dashboard's controllers declare, computed by the dashboard's own code:
# it imports the dashboard package from a source directory and asks Ceph's Router and Endpoint objects.
#
# Usage: /usr/bin/python3 dashboard-routes.py DASHBOARD_DIR
#    or: chroot ROOT /usr/bin/python3 - /usr/share/ceph/mgr/dashboard < dashboard-routes.py
# DASHBOARD_DIR is an installed (or unpacked) `ROOT/usr/share/ceph/mgr/dashboard` or a source tree's
# `src/pybind/mgr/dashboard`; mgr_module, ceph_argparse and the `ceph` package are taken from beside it.
# Needs the dashboard's Python dependencies (cherrypy, routes, jwt, bcrypt, yaml, ...): Debian's
# /usr/bin/python3 with ceph-mgr-dashboard installed has them. Only compiled modules are stubbed (STUBBED).

import importlib
import importlib.util
import inspect
import itertools
import json
import logging
import os
import sys
import types

sys.dont_write_bytecode = True  # never write __pycache__ into the (root-owned) dashboard tree

# Compiled modules that exist only inside a ceph-mgr process (ceph_module) or as Cython bindings of one
# Ceph release (rados, rbd, cephfs). Declaring routes needs none of their behaviour: at import time the
# dashboard only subclasses their classes and uses their constants as dict keys. Stubbing them always (not
# "when missing") keeps the output independent of which release's bindings this machine has installed.
STUBBED = ('ceph_module', 'rados', 'rbd', 'cephfs')
_constants = itertools.count(1 << 20)


def stub_module(name):
    module = types.ModuleType(name)
    module.__stub__ = True

    def __getattr__(attr):  # noqa: N807 - PEP 562 module attribute hook
        if attr.startswith('__'):
            raise AttributeError(attr)
        # RBD_MIRROR_MODE_POOL and the like: distinct ints (used as dict keys and in bit masks);
        # anything else (RBD, Rados, Error, ImageNotFound, BaseMgrModule, ...): a class (callable, subclassable).
        value = next(_constants) if attr.isupper() and '_' in attr else type(attr, (Exception,), {'__module__': name})
        setattr(module, attr, value)
        return value

    module.__getattr__ = __getattr__
    return module


def release_modules(dashboard_dir):
    """Where the release's own pure-Python Ceph modules are, next to its dashboard: `ceph_argparse` and
    the `ceph` package (python-common). mgr_module and mgr_util sit in the dashboard's parent directory."""
    mgr_dir = os.path.dirname(dashboard_dir)
    pybind = os.path.dirname(mgr_dir)
    # Installed (or unpacked, or chroot) layout: ROOT/usr/share/ceph/mgr/dashboard.
    dist = os.path.join(os.path.dirname(os.path.dirname(pybind)), 'lib', 'python3', 'dist-packages')
    # Source tree: src/pybind/mgr/dashboard, src/pybind/ceph_argparse.py, src/python-common/ceph.
    common = os.path.join(os.path.dirname(pybind), 'python-common')
    found = {}
    for name, candidates in (('ceph_argparse', [os.path.join(pybind, 'ceph_argparse.py'), os.path.join(dist, 'ceph_argparse.py')]),
                             ('ceph', [os.path.join(common, 'ceph'), os.path.join(dist, 'ceph')])):
        found[name] = next((c for c in candidates if os.path.exists(c)), None)
    return mgr_dir, found


def load_module(name, path):
    """Imports `name` from `path` (a file or a package directory) whatever else is on sys.path, so the
    interpreter's own copy (another release's) is not taken instead."""
    if os.path.isdir(path):
        spec = importlib.util.spec_from_file_location(name, os.path.join(path, '__init__.py'), submodule_search_locations=[path])
    else:
        spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


class MgrStub:
    """The module instance `dashboard.mgr` proxies to. Only Home's constructor asks it anything while the
    routes are built (for the frontend's languages); the answer is the one Module.get_frontend_path gives."""

    def __init__(self, dashboard_dir):
        self._dir = dashboard_dir

    def get_frontend_path(self):
        return os.path.join(self._dir, 'frontend/dist')

    def __getattr__(self, item):
        raise AttributeError(f'mgr.{item} is not available while listing routes')


def load(dashboard_dir):
    script_dir = os.path.dirname(os.path.abspath(__file__)) if '__file__' in globals() else None
    mgr_dir, found = release_modules(dashboard_dir)
    sys.path[:] = [mgr_dir] + [p for p in sys.path if p not in ('', script_dir)]
    for name in STUBBED:
        sys.modules[name] = stub_module(name)
    for name, path in found.items():
        if path is not None:
            load_module(name, path)
    package = importlib.import_module(os.path.basename(dashboard_dir))
    package.mgr.init(MgrStub(dashboard_dir))
    controllers = importlib.import_module(package.__name__ + '.controllers')
    version = importlib.import_module(package.__name__ + '.controllers._version')
    return controllers, version.APIVersion


def origins():
    """Where each module the routes depend on came from, so a mixed-release run shows in the output."""
    return {name: getattr(sys.modules.get(name), '__file__', None)
            for name in ('mgr_module', 'mgr_util', 'ceph_argparse', 'ceph', 'cherrypy', 'routes')}


class ErrorLog(logging.Handler):
    """Collects what the dashboard logs at ERROR or above while it loads: some controllers are declared
    only when an optional import works (Tentacle's NVMe-oF needs grpc), and their absence must show."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages = []

    def emit(self, record):
        self.messages.append(f'{record.name}: {record.getMessage()}')


def names(params):
    return [p['name'] for p in params]


def handler_info(handler, controller):
    """What CherryPy and the dashboard's auth tool see for a request routed to `handler`: the merged
    `_cp_config` (controller, then handler, as RoutesDispatcher.find_handler merges them) and the
    handler's `_security_permissions` (AuthManagerTool._check_authorization)."""
    config = dict(getattr(controller, '_cp_config', {}))
    config.update(getattr(handler, '_cp_config', {}))
    secure = bool(config.get('tools.authenticate.on', False))
    scope = getattr(controller, '_security_scope', None)
    permissions = sorted(getattr(handler, '_security_permissions', None) or [])
    if not secure:
        check = 'none'  # the auth tool is off: no token, no scope check
    elif not scope:
        check = 'authenticated'  # any valid token
    elif not permissions:
        check = 'forbidden'  # scope but no permission: _check_authorization answers 403 to everyone
    else:
        check = 'scope'  # the user's roles must grant every permission on the scope
    return {
        'secure': secure,
        'scope': scope or None,
        'permissions': permissions,
        'check': check,
        # module.py sets tools.json_in.force globally; @allow_empty_body turns it off per handler.
        'allow_empty_body': config.get('tools.json_in.force', True) is False,
    }


def shape(template):
    """The template with parameter names erased: two routes of one shape match the same paths."""
    return '/'.join('{}' if step.startswith('{') else step for step in template.split('/'))


def routes(controllers, api_version):
    """Every (method, template) the mapper serves. Routes matches the first connected route: when two are
    connected for the same method and shape (a subclass of a routed controller inherits its endpoints and
    its path, e.g. RBDPool(Pool) or OsdUi(Osd) duplicating Osd's methods), the later one is unreachable and
    listed under `shadowed` instead."""
    mapper, _parents = controllers.Router.generate_routes('')
    out, shadowed, first = [], [], {}
    for route in mapper.mapper.matchlist:
        if route.name.endswith('/'):
            continue  # generate_controller_routes connects every route again with a trailing slash
        inst = mapper.controllers[route.defaults['controller']]
        action = route.defaults['action']
        endpoint = next(e for e in controllers.ENDPOINT_MAP[route.routepath] if e.inst is inst and e.action == action)
        methods = (route.conditions or {}).get('method')  # None: Proxy endpoints take every method
        key = (tuple(methods or ['*']), shape(route.routepath))
        entry = describe(route.routepath, endpoint, inst, action, methods is None)
        if key in first:
            winner = first[key]
            if (winner['controller'], winner['handler']) == (entry['controller'], entry['handler']):
                continue  # the same endpoint connected twice (inherited and re-declared): nothing is lost
            lost = {**pick(entry, 'method', 'template', 'controller', 'handler'),
                    'shadowed_by': f"{winner['controller']}.{winner['handler']} {winner['template']}"}
            if lost not in shadowed:
                shadowed.append(lost)
            continue
        first[key] = entry
        out.append(entry)
    for entry in out:
        # The router calls getattr(controller, action): endpoints of one controller whose functions share a
        # name all run the function set last, whatever each declared.
        entry['handler_shared'] = sum(1 for e in out if e['controller'] == entry['controller']
                                      and e['handler'] == entry['handler']) > 1
    return {'default_version': str(api_version.DEFAULT), 'routes': out, 'shadowed': shadowed}


def pick(entry, *keys):
    return {k: entry[k] for k in keys}


def describe(template, endpoint, inst, action, any_method):
    handler = getattr(inst, action, None)
    version = endpoint.config['version']
    return {
        'method': endpoint.method,
        'any_method': any_method,
        'template': template,
        'controller': endpoint.ctrl.__name__,
        'module': endpoint.ctrl.__module__.split('.', 1)[-1],
        'handler': action,
        'api': bool(endpoint.is_api),
        **handler_info(handler, inst),
        # Ceph's own split of the handler's arguments (BaseController.Endpoint).
        'path_params': names(endpoint.path_params),
        'query_params': names(endpoint.query_params),
        'body_params': names(endpoint.body_params),
        # A handler taking **kwargs receives any further argument too.
        'var_kwargs': takes_kwargs(endpoint.func),
        'version': None if version is None else str(version),
        'json_response': bool(endpoint.config['json_response']),
        'xml': bool(endpoint.config['xml']),
        'proxy': bool(endpoint.proxy),
    }


def takes_kwargs(func):
    while hasattr(func, '__wrapped__'):
        func = func.__wrapped__
    return inspect.getfullargspec(func).varkw is not None


def main(argv):
    if len(argv) != 2 or not os.path.isfile(os.path.join(argv[1], 'controllers', '_base_controller.py')):
        sys.stderr.write('usage: dashboard-routes.py DASHBOARD_DIR (a directory with controllers/_base_controller.py)\n')
        return 2
    dashboard_dir = os.path.abspath(argv[1])
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    controllers, api_version = load(dashboard_dir)
    listed = routes(controllers, api_version)
    result = {'source': dashboard_dir, 'stubbed': list(STUBBED), 'modules': origins(),
              'load_errors': errors.messages, **listed}
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
