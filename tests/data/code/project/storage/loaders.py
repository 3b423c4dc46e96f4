"""Loading configuration and cached state from files."""

import pickle
import sqlite3

import yaml


def read_config(stream):
    return yaml.load(stream)  # planted: B506 psr.python.yaml-unsafe-load


def restore(blob):
    return pickle.loads(blob)  # planted: B301 psr.python.pickle-load


def find_user(conn: sqlite3.Connection, name):
    return conn.execute(f"SELECT id FROM users WHERE name = '{name}'").fetchall()  # planted: B608 psr.python.sql-string-formatting
