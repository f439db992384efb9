"""Operator tools behind `userl doctor` and `userl record-pose`."""
