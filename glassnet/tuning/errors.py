"""The tuning errors a user may catch."""


class SetupError(ValueError):
    """A mistake every trial would repeat (the objective is never reported, a parameter is never
    read): the search stops at once instead of failing trial after trial."""


class ObjectiveNotReportedError(SetupError):
    """The objective named for a search is not among the values ``fit`` logs."""


class StorageError(ConnectionError):
    """The study's storage cannot be opened (a bad URL, a server that does not answer)."""


class WorkerError(RuntimeError):
    """A worker process of ``Tuner.search`` could not start, or every worker died; the message
    names each worker and its cause (its exit code or signal and its last error lines)."""
