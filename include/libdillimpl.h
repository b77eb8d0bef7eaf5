#ifndef LIBDILLIMPL_H_INCLUDED
#define LIBDILLIMPL_H_INCLUDED

#include "libdill.h"


struct hvfs {
  void *(*query)(struct hvfs *vfs, const void *type);
  void (*close)(struct hvfs *vfs);
  int (*done)(struct hvfs *vfs, int64_t deadline);
  unsigned int refcount;
};

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

DILL_EXPORT int hmake(struct hvfs *vfs);

DILL_EXPORT void *hquery(int h, const void *type);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* LIBDILLIMPL_H_INCLUDED */
