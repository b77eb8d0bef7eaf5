#ifndef LIBDILLIMPL_H_INCLUDED
#define LIBDILLIMPL_H_INCLUDED

#include "libdill.h"


struct hvfs {
  void *(*query)(struct hvfs *vfs, const void *type);
  void (*close)(struct hvfs *vfs);
  int (*done)(struct hvfs *vfs, int64_t deadline);
  unsigned int refcount;
};

struct bsock_vfs {
  int (*bsendl)(struct bsock_vfs *vfs, struct iolist *first, struct iolist *last, int64_t deadline);
  int (*brecvl)(struct bsock_vfs *vfs, struct iolist *first, struct iolist *last, int64_t deadline);
};

struct msock_vfs {
  int (*msendl)(struct msock_vfs *vfs, struct iolist *first, struct iolist *last, int64_t deadline);
  ssize_t (*mrecvl)(struct msock_vfs *vfs,
                    struct iolist *first,
                    struct iolist *last,
                    int64_t deadline);
};

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

extern const void *bsock_type;

extern const void *msock_type;

DILL_EXPORT int hmake(struct hvfs *vfs);

DILL_EXPORT void *hquery(int h, const void *type);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* LIBDILLIMPL_H_INCLUDED */
