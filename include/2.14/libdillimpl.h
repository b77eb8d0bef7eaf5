#ifndef LIBDILLIMPL_H_INCLUDED
#define LIBDILLIMPL_H_INCLUDED

#include "libdill.h"

#if !defined DILL_DISABLE_RAW_NAMES
#define hvfs dill_hvfs
#define bsock_vfs dill_bsock_vfs
#define bsock_type dill_bsock_type
#define msock_vfs dill_msock_vfs
#define msock_type dill_msock_type
#endif


struct dill_hvfs {
  void *(*query)(struct dill_hvfs *vfs, const void *type);
  void (*close)(struct dill_hvfs *vfs);
};

struct dill_bsock_vfs {
  int (*bsendl)(struct dill_bsock_vfs *vfs,
                struct dill_iolist *first,
                struct dill_iolist *last,
                int64_t deadline);
  int (*brecvl)(struct dill_bsock_vfs *vfs,
                struct dill_iolist *first,
                struct dill_iolist *last,
                int64_t deadline);
};

struct dill_msock_vfs {
  int (*msendl)(struct dill_msock_vfs *vfs,
                struct dill_iolist *first,
                struct dill_iolist *last,
                int64_t deadline);
  ssize_t (*mrecvl)(struct dill_msock_vfs *vfs,
                    struct dill_iolist *first,
                    struct dill_iolist *last,
                    int64_t deadline);
};

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

extern const void *dill_bsock_type;

extern const void *dill_msock_type;

DILL_EXPORT int dill_hmake(struct dill_hvfs *vfs);

DILL_EXPORT void *dill_hquery(int h, const void *type);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#if !defined DILL_DISABLE_RAW_NAMES
#define hmake dill_hmake
#define hquery dill_hquery
#endif

#endif  /* LIBDILLIMPL_H_INCLUDED */
