"""dialflow-loyalty: an example of a team's own dialflow extension (a tool and a behaviour).

Nothing here is imported by dialflow by name: the entry points in pyproject.toml are.
"""
