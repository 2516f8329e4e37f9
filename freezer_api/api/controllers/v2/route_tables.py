"""The route table of each resource under /v2/{project_id}, which its
controller serves (``routes.Route``: path, handlers, JSON-home relation,
query, policy rules).

The tables live apart from the controllers so that the policy defaults
(``freezer_api.common.policies``) can document their operations from them
in a process that must not import the controllers: oslo.policy's tools
parse the global configuration before they load our rules, and the
controllers register options on it.
"""

from freezer_api.api import routes

ACTIONS = [
    routes.Route((), {'GET': 'list', 'POST': 'create'}, 'actions',
                 query=routes.PAGING,
                 rules={'GET': 'actions:get_all', 'POST': 'actions:create'}),
    routes.Route((routes.ID,), {'GET': 'show', 'POST': 'replace',
                                'PATCH': 'update', 'DELETE': 'delete'},
                 'action',
                 rules={'GET': 'actions:get', 'POST': 'actions:replace',
                        'PATCH': 'actions:update',
                        'DELETE': 'actions:delete'}),
]

# The jobs of every project, for the callers the rule allows.
_ALL_PROJECTS = 'jobs:get_all_projects?all_projects=true'

JOBS = [
    routes.Route((), {'GET': 'list', 'POST': 'create'}, 'jobs',
                 query=('all_projects',) + routes.PAGING,
                 rules={'GET': 'jobs:get_all', 'POST': 'jobs:create'},
                 extra_rules={'GET': (_ALL_PROJECTS,)}),
    # The original service had no jobs:replace rule; jobs:create guards
    # both POSTs, and operators' policy files rely on it.
    routes.Route((routes.ID,), {'GET': 'show', 'POST': 'replace',
                                'PATCH': 'update', 'DELETE': 'delete'},
                 'job', query=('all_projects',),
                 rules={'GET': 'jobs:get', 'POST': 'jobs:create',
                        'PATCH': 'jobs:update', 'DELETE': 'jobs:delete'},
                 extra_rules={'GET': (_ALL_PROJECTS,)}),
    routes.Route((routes.ID, 'event'), {'POST': 'event'}, 'job_event',
                 rules={'POST': 'jobs:event:create'}),
    routes.Route((routes.ID, 'runs'), {'GET': 'runs'}, 'job_runs',
                 query=routes.PAGING, rules={'GET': 'runs:get_all'}),
    routes.Route((routes.ID, 'health'), {'GET': 'health'}, 'job_health',
                 rules={'GET': 'health:get'}),
]

SESSIONS = [
    routes.Route((), {'GET': 'list', 'POST': 'create'}, 'sessions',
                 query=routes.PAGING,
                 rules={'GET': 'sessions:get_all',
                        'POST': 'sessions:create'}),
    routes.Route((routes.ID,), {'GET': 'show', 'POST': 'replace',
                                'PATCH': 'update', 'DELETE': 'delete'},
                 'session',
                 rules={'GET': 'sessions:get', 'POST': 'sessions:replace',
                        'PATCH': 'sessions:update',
                        'DELETE': 'sessions:delete'}),
    routes.Route((routes.ID, 'action'), {'POST': 'action'},
                 'session_action',
                 rules={'POST': 'sessions:action:create'}),
    routes.Route((routes.ID, 'jobs', routes.ID),
                 {'PUT': 'add_job', 'DELETE': 'remove_job'}, 'session_job',
                 rules={'PUT': 'sessions:job:add',
                        'DELETE': 'sessions:job:remove'}),
]

CLIENTS = [
    routes.Route((), {'GET': 'list', 'POST': 'register'}, 'clients',
                 query=routes.PAGING,
                 rules={'GET': 'clients:get_all', 'POST': 'clients:create'},
                 extra_rules={'POST': ('clients:create_central',)}),
    routes.Route((routes.ID,), {'GET': 'show', 'DELETE': 'delete'},
                 'client',
                 rules={'GET': 'clients:get', 'DELETE': 'clients:delete'}),
]

BACKUPS = [
    routes.Route((), {'GET': 'list', 'POST': 'create'}, 'backup_list',
                 query=routes.PAGING,
                 rules={'GET': 'backups:get_all', 'POST': 'backups:create'}),
    routes.Route((routes.ID,), {'GET': 'show', 'PATCH': 'update',
                                'DELETE': 'delete'}, 'backups',
                 rules={'GET': 'backups:get', 'PATCH': 'backups:update',
                        'DELETE': 'backups:delete'}),
]

RUNS = [
    routes.Route((), {'GET': 'list'}, 'runs', query=routes.PAGING,
                 rules={'GET': 'runs:get_all'}),
    routes.Route((routes.ID,), {'GET': 'show'}, 'run',
                 rules={'GET': 'runs:get'}),
]

HEALTH = [
    routes.Route((), {'GET': 'list'}, 'health', query=routes.PAGING,
                 rules={'GET': 'health:get_all'}),
]

# The routes of the root outside any project whose policy rule guards
# them (RootController serves them): the figures of every project.
SERVICE = [
    routes.Route(('metrics',), {'GET': 'metrics'},
                 rules={'GET': 'metrics:get'}),
]

# resource -> its table, as V2Controller.resources serves them.
RESOURCES = {
    'actions': ACTIONS,
    'jobs': JOBS,
    'sessions': SESSIONS,
    'clients': CLIENTS,
    'backups': BACKUPS,
    'runs': RUNS,
    'health': HEALTH,
}
