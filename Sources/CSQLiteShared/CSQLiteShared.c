// Declarations only (include/CSQLiteShared.h); the definitions are SQLiteNIO's vendored SQLite.
#include "CSQLiteShared.h"
