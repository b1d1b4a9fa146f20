"""`meshctl diagnose`: read a live cluster and run the analysis on what is running.

``access``    kubeconfig (merged KUBECONFIG files, contexts, tokens, client certificates,
              exec plugins, in-cluster config) -> how to reach the API server
``api``       read-only HTTP through the official ``kubernetes`` client: GET only, every
              call bounded by --timeout, 429/5xx/timeouts retried with backoff
``discovery`` which groups and versions the cluster serves -> the lists to make
``reader``    the lists (paginated, Secrets as metadata) -> a LiveState, with what could
              not be read (RBAC, missing CRDs, failures) recorded as partial views
``convert``   one live object -> a SourceDoc named ``cluster:<context>/<ns>/<Kind>/<name>``
              whose text is generated YAML, so positions work as they do for files
``run``       the analyze pipeline (validate -> lower -> rules) plus the live checks
              (``meshctl/rules/live``) on those SourceDocs

Only ``access`` and ``api`` import ``kubernetes``, and only when diagnose runs.
"""
