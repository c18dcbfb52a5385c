"""Ingest of the landing zone: discover new files, validate every row, load or quarantine it."""

from tierflow.ingest.inputs import INPUTS, InputSpec
from tierflow.ingest.loader import FileResult, IngestResult, LandingFileError, check_new_files, ingest_input

__all__ = ["INPUTS", "FileResult", "IngestResult", "InputSpec", "LandingFileError", "check_new_files", "ingest_input"]
