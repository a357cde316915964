"""One module per page of the main window. A page is a QWidget with
`set_workspace(workspace, dataset)`; it receives its collaborators and runs core calls through
workers, so a test can build one alone."""
