// The few functions of the SQLite library that SQLiteNIO vendors and links into every `pls` binary, for the
// ledger's own connection (PLSApp/Core/DirectSQLiteWriter.swift). SQLiteNIO builds its copy with the prefix
// `sqlite_nio_` on every symbol and does not export the headers, so they are declared here with SQLite's own
// signatures. Using that copy, rather than a second SQLite library, matters: two copies of SQLite in one process
// keep two tables of the file's POSIX locks and can corrupt a database that both open. Should SQLiteNIO rename its
// symbols, the build fails at link time; it cannot go wrong silently.
#ifndef PLS_CSQLITE_SHARED_H
#define PLS_CSQLITE_SHARED_H


typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;

int sqlite_nio_sqlite3_initialize(void);
int sqlite_nio_sqlite3_open_v2(const char *filename, sqlite3 **ppDb, int flags, const char *zVfs);
int sqlite_nio_sqlite3_close_v2(sqlite3 *db);
int sqlite_nio_sqlite3_busy_timeout(sqlite3 *db, int ms);
int sqlite_nio_sqlite3_extended_errcode(sqlite3 *db);
const char *sqlite_nio_sqlite3_errmsg(sqlite3 *db);
int sqlite_nio_sqlite3_get_autocommit(sqlite3 *db);

int sqlite_nio_sqlite3_prepare_v3(sqlite3 *db, const char *zSql, int nByte, unsigned int prepFlags,
                                  sqlite3_stmt **ppStmt, const char **pzTail);
int sqlite_nio_sqlite3_step(sqlite3_stmt *stmt);
int sqlite_nio_sqlite3_reset(sqlite3_stmt *stmt);
int sqlite_nio_sqlite3_clear_bindings(sqlite3_stmt *stmt);
int sqlite_nio_sqlite3_finalize(sqlite3_stmt *stmt);

int sqlite_nio_sqlite3_bind_null(sqlite3_stmt *stmt, int index);
int sqlite_nio_sqlite3_bind_int64(sqlite3_stmt *stmt, int index, long long value);
int sqlite_nio_sqlite3_bind_double(sqlite3_stmt *stmt, int index, double value);
int sqlite_nio_sqlite3_bind_text(sqlite3_stmt *stmt, int index, const char *text, int bytes, void (*destructor)(void *));
int sqlite_nio_sqlite3_bind_blob(sqlite3_stmt *stmt, int index, const void *bytes, int count, void (*destructor)(void *));

int sqlite_nio_sqlite3_column_count(sqlite3_stmt *stmt);
int sqlite_nio_sqlite3_column_type(sqlite3_stmt *stmt, int column);
long long sqlite_nio_sqlite3_column_int64(sqlite3_stmt *stmt, int column);
double sqlite_nio_sqlite3_column_double(sqlite3_stmt *stmt, int column);
const unsigned char *sqlite_nio_sqlite3_column_text(sqlite3_stmt *stmt, int column);
const void *sqlite_nio_sqlite3_column_blob(sqlite3_stmt *stmt, int column);
int sqlite_nio_sqlite3_column_bytes(sqlite3_stmt *stmt, int column);

#define PLS_SQLITE_OK 0
#define PLS_SQLITE_ROW 100
#define PLS_SQLITE_DONE 101
#define PLS_SQLITE_INTEGER 1
#define PLS_SQLITE_FLOAT 2
#define PLS_SQLITE_TEXT 3
#define PLS_SQLITE_BLOB 4
#define PLS_SQLITE_NULL 5
#define PLS_SQLITE_OPEN_READWRITE 0x00000002
#define PLS_SQLITE_OPEN_FULLMUTEX 0x00010000
#define PLS_SQLITE_OPEN_EXRESCODE 0x02000000
#define PLS_SQLITE_PREPARE_PERSISTENT 0x01

/// Text and blobs are copied by SQLite when bound (SQLITE_TRANSIENT): Swift's buffers live only for the call.
static inline int pls_sqlite3_bind_text_copy(sqlite3_stmt *stmt, int index, const char *text, int bytes) {
    return sqlite_nio_sqlite3_bind_text(stmt, index, text, bytes, (void (*)(void *))-1);
}
static inline int pls_sqlite3_bind_blob_copy(sqlite3_stmt *stmt, int index, const void *bytes, int count) {
    return sqlite_nio_sqlite3_bind_blob(stmt, index, bytes, count, (void (*)(void *))-1);
}

#endif
