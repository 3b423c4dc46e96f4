import sqlite3


def lookup(conn: sqlite3.Connection, user_id, name):
    cur = conn.cursor()
    # ruleid: psr.python.sql-string-formatting
    cur.execute(f"SELECT * FROM users WHERE id = {user_id}")
    # ruleid: psr.python.sql-string-formatting
    cur.execute("DELETE FROM users WHERE name = '%s'" % name)
    # ruleid: psr.python.sql-string-formatting
    cur.execute("UPDATE users SET name = '{}'".format(name))
    query = "SELECT name FROM users WHERE name = '" + name + "'"
    # ruleid: psr.python.sql-string-formatting
    cur.execute(query)

    # ok: psr.python.sql-string-formatting
    cur.execute("SELECT * FROM users WHERE id = ?", (user_id,))
    # ok: psr.python.sql-string-formatting
    cur.execute("SELECT count(*) FROM users")
    # ok: psr.python.sql-string-formatting
    cur.execute(f"PRAGMA user_version = {int(user_id)}")
    return cur.fetchall()
