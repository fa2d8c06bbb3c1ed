/* The kernel API of the `kernel` crate: rustkmod makes bindings for each kernel from it, so the
 * layouts (struct mutex grows with lockdep, struct kernel_param) are that kernel's own. The
 * functions below wrap what is a macro on some kernels and a function on others. */
#include <linux/delay.h>
#include <linux/version.h>
#include <linux/dev_printk.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/ioctl.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/seq_file.h>
#include <linux/debugfs.h>
#include <linux/wait.h>
#include <linux/completion.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/pci.h>
#include <linux/io.h>
#include <linux/interrupt.h>
#include <linux/dma-mapping.h>
#include <linux/platform_device.h>
#include <linux/mod_devicetable.h>
#include <linux/of.h>
#include <linux/of_device.h>
#include <linux/acpi.h>
#include <linux/property.h>

// rustkmod-bindgen: allow kernel_param kernel_param_ops mutex spinlock lock_class_key
// rustkmod-bindgen: allow param_ops_bool param_ops_byte param_ops_short param_ops_ushort param_ops_int
// rustkmod-bindgen: allow param_ops_uint param_ops_long param_ops_ulong param_ops_ullong param_ops_charp
// rustkmod-bindgen: allow rkk_mutex_init rkk_mutex_lock mutex_unlock
// rustkmod-bindgen: allow rkk_spin_lock_init rkk_spin_lock rkk_spin_unlock
// rustkmod-bindgen: allow rkk_kvmalloc kvfree
// rustkmod-bindgen: allow file_operations miscdevice misc_register misc_deregister noop_llseek MISC_DYNAMIC_MINOR
// rustkmod-bindgen: allow rkk_copy_from_user rkk_copy_to_user rkk_dev_log
// rustkmod-bindgen: allow _IOC_NRSHIFT _IOC_TYPESHIFT _IOC_SIZESHIFT _IOC_DIRSHIFT _IOC_SIZEMASK
// rustkmod-bindgen: allow _IOC_NONE _IOC_READ _IOC_WRITE
// rustkmod-bindgen: allow rkk_fsleep
// rustkmod-bindgen: allow kiocb iov_iter rkk_iov_iter_count rkk_copy_to_iter rkk_copy_from_iter
// rustkmod-bindgen: allow seq_file seq_write get_device put_device
// rustkmod-bindgen: allow rkk_debugfs_create_dir rkk_debugfs_create_file rkk_inode_private debugfs_remove
// rustkmod-bindgen: allow single_open single_release seq_read seq_lseek default_llseek
// rustkmod-bindgen: allow mutex_trylock rkk_spin_trylock wait_queue_head wait_queue_entry __init_waitqueue_head
// rustkmod-bindgen: allow rkk_prepare_to_wait schedule finish_wait rkk_wake_up rkk_signal_pending_current
// rustkmod-bindgen: allow completion rkk_init_completion complete_all wait_for_completion
// rustkmod-bindgen: allow task_struct rkk_current rkk_task_pid rkk_signal_pending wake_up_process
// rustkmod-bindgen: allow rkk_get_task_struct rkk_put_task_struct rkk_ktime_get
// rustkmod-bindgen: allow work_struct workqueue_struct rkk_init_work rkk_queue_work rkk_alloc_module_workqueue destroy_workqueue
// rustkmod-bindgen: allow rkk_faux_device_create rkk_faux_device_destroy rkk_faux_device_dev
// rustkmod-bindgen: allow pci_driver pci_device_id pci_dev rkk_pci_register_driver pci_unregister_driver
// rustkmod-bindgen: allow rkk_pci_device rkk_dev_get_drvdata rkk_dev_set_drvdata rkk_pci_ids
// rustkmod-bindgen: allow rkk_pci_enable_device_mem pci_set_master rkk_pci_resource_len
// rustkmod-bindgen: allow pci_request_region pci_release_region rkk_pci_iomap rkk_pci_iounmap
// rustkmod-bindgen: allow rkk_ioread8 rkk_ioread16 rkk_ioread32 rkk_iowrite8 rkk_iowrite16 rkk_iowrite32
// rustkmod-bindgen: allow rkk_request_irq rkk_irq_free rkk_irq_synchronize rkk_devm_add_action rkk_devm_add_action_or_reset devm_remove_action
// rustkmod-bindgen: allow rkk_pci_alloc_irq_vectors rkk_pci_irq_vector rkk_pci_clear_master
// rustkmod-bindgen: allow pci_read_config_byte pci_read_config_word pci_read_config_dword
// rustkmod-bindgen: allow pci_write_config_byte pci_write_config_word pci_write_config_dword
// rustkmod-bindgen: allow rkk_dma_set_mask_and_coherent rkk_dma_alloc_coherent rkk_dma_free_coherent
// rustkmod-bindgen: allow rkk_platform_driver platform_device of_device_id acpi_device_id
// rustkmod-bindgen: allow rkk_platform_register_driver rkk_platform_unregister_driver rkk_platform_device
// rustkmod-bindgen: allow rkk_of_match_index rkk_acpi_match_index
// rustkmod-bindgen: allow rkk_platform_iomap rkk_platform_iounmap rkk_platform_irq
// rustkmod-bindgen: allow fwnode_handle fwnode_reference_args rkk_dev_fwnode rkk_is_of_node fwnode_property_present
// rustkmod-bindgen: allow fwnode_property_read_u8_array fwnode_property_read_u16_array fwnode_property_read_u32_array
// rustkmod-bindgen: allow fwnode_property_read_u64_array fwnode_property_read_string fwnode_property_match_string
// rustkmod-bindgen: allow fwnode_get_next_child_node fwnode_get_named_child_node rkk_fwnode_get rkk_fwnode_put
// rustkmod-bindgen: allow rkk_fwnode_get_reference_args rkk_fwnode_path
// rustkmod-bindgen: allow auxiliary_driver auxiliary_device auxiliary_device_id rkk_auxiliary_register_driver
// rustkmod-bindgen: allow rkk_auxiliary_unregister_driver rkk_auxiliary_device_add rkk_auxiliary_device_remove
// rustkmod-bindgen: allow rkk_auxiliary_data rkk_auxiliary_device_dev rkk_auxiliary_device_id

/* mutex_init() makes a lock class of its own; the crate gives one per declaration site. */
static inline void rkk_mutex_init(struct mutex *lock, const char *name, struct lock_class_key *key)
{
	__mutex_init(lock, name, key);
}

/* mutex_lock is mutex_lock_nested(lock, 0) on a lockdep kernel. */
static inline void rkk_mutex_lock(struct mutex *lock)
{
	mutex_lock(lock);
}

static inline void rkk_spin_lock_init(spinlock_t *lock, const char *name, struct lock_class_key *key)
{
#ifdef CONFIG_DEBUG_SPINLOCK
	__raw_spin_lock_init(spinlock_check(lock), name, key, LD_WAIT_CONFIG);
#else
	spin_lock_init(lock);
#endif
}

static inline void rkk_spin_lock(spinlock_t *lock)
{
	spin_lock(lock);
}

static inline void rkk_spin_unlock(spinlock_t *lock)
{
	spin_unlock(lock);
}

/* kvmalloc is a static inline function up to 6.9 and a macro from 6.10. */
/* kvmalloc WARNs (newer kernels) or vmalloc complains before failing a size it can never serve:
 * past INT_MAX it is refused here, and above a page it is asked with __GFP_NOWARN (kvmalloc's
 * own kmalloc attempt asks so too): the caller gets NULL, an ENOMEM it handles. */
static inline void *rkk_kvmalloc(size_t size, gfp_t flags)
{
	if (size > INT_MAX)
		return NULL;
	return kvmalloc(size, size > PAGE_SIZE ? flags | __GFP_NOWARN : flags);
}

/* copy_from_user and copy_to_user are static inline functions (or macros) on every kernel: the
 * bytes left uncopied, 0 when all were. */
static inline unsigned long rkk_copy_from_user(void *to, const void __user *from, unsigned long n)
{
	return copy_from_user(to, from, n);
}

static inline unsigned long rkk_copy_to_user(void __user *to, const void *from, unsigned long n)
{
	return copy_to_user(to, from, n);
}

/* dev_info() and the others: the device's driver and name in front, at printk level `level`. */
static inline void rkk_dev_log(const struct device *dev, int level, const char *msg, size_t len)
{
	char prefix[3] = { KERN_SOH_ASCII, (char)('0' + (level & 7)), 0 };

	dev_printk(prefix, dev, "%.*s\n", (int)len, msg);
}

/* fsleep() picks udelay, usleep_range or msleep by the length; a static inline function. */
static inline void rkk_fsleep(unsigned long usecs)
{
	fsleep(usecs);
}

/* iov_iter_count, copy_to_iter and copy_from_iter are static inline functions: the bytes the
 * iterator still holds, and copies that stop short at a fault (the bytes copied). */
static inline size_t rkk_iov_iter_count(const struct iov_iter *i)
{
	return iov_iter_count(i);
}

static inline size_t rkk_copy_to_iter(const void *addr, size_t bytes, struct iov_iter *i)
{
	return copy_to_iter(addr, bytes, i);
}

static inline size_t rkk_copy_from_iter(void *addr, size_t bytes, struct iov_iter *i)
{
	return copy_from_iter(addr, bytes, i);
}

/* debugfs_create_dir and debugfs_create_file give an ERR_PTR when debugfs fails (or is not built
 * in): NULL here, "no file", which the crate treats as C code does (no error). */
static inline struct dentry *rkk_debugfs_create_dir(const char *name, struct dentry *parent)
{
	struct dentry *dentry = debugfs_create_dir(name, parent);

	return IS_ERR_OR_NULL(dentry) ? NULL : dentry;
}

static inline struct dentry *rkk_debugfs_create_file(const char *name, umode_t mode, struct dentry *parent,
						     void *data, const struct file_operations *fops)
{
	struct dentry *dentry = debugfs_create_file(name, mode, parent, data, fops);

	return IS_ERR_OR_NULL(dentry) ? NULL : dentry;
}

/* The data a debugfs file was made with (its inode's private pointer). */
static inline void *rkk_inode_private(struct file *file)
{
	return file_inode(file)->i_private;
}

/* spin_trylock is a macro. */
static inline bool rkk_spin_trylock(spinlock_t *lock)
{
	return spin_trylock(lock);
}

/* A CondVar's wait: the entry is the waiting task's (init_wait, a macro), queued exclusive, in
 * the sleep state asked for; prepare_to_wait_exclusive returns bool from 6.x, void before. */
static inline void rkk_prepare_to_wait(struct wait_queue_head *queue, struct wait_queue_entry *entry, bool interruptible)
{
	init_wait(entry);
	prepare_to_wait_exclusive(queue, entry, interruptible ? TASK_INTERRUPTIBLE : TASK_UNINTERRUPTIBLE);
}

/* Wakes `count` exclusive waiters (0: all), as wake_up/wake_up_all do (macros). */
static inline void rkk_wake_up(struct wait_queue_head *queue, int count)
{
	__wake_up(queue, TASK_NORMAL, count, NULL);
}

static inline bool rkk_signal_pending_current(void)
{
	return signal_pending(current);
}

/* init_completion is static inline. */
static inline void rkk_init_completion(struct completion *completion)
{
	init_completion(completion);
}

/* current is a per-CPU macro; task_pid_nr, signal_pending, get/put_task_struct are inline. */
static inline struct task_struct *rkk_current(void)
{
	return current;
}

static inline pid_t rkk_task_pid(struct task_struct *task)
{
	return task_pid_nr(task);
}

static inline bool rkk_signal_pending(struct task_struct *task)
{
	return signal_pending(task);
}

static inline void rkk_get_task_struct(struct task_struct *task)
{
	get_task_struct(task);
}

static inline void rkk_put_task_struct(struct task_struct *task)
{
	put_task_struct(task);
}

/* The clocks of time::Instant: 0 monotonic, 1 boot time, 2 real time (ktime_get_boottime and
 * ktime_get_real are inline). */
static inline s64 rkk_ktime_get(int clock)
{
	switch (clock) {
	case 1:
		return ktime_get_boottime();
	case 2:
		return ktime_get_real();
	default:
		return ktime_get();
	}
}

/* INIT_WORK with the crate's lock class (INIT_WORK makes one per C call site; 5.10 has no form
 * that takes a key): what __INIT_WORK does, field by field. */
static inline void rkk_init_work(struct work_struct *work, work_func_t func, const char *name, struct lock_class_key *key)
{
	__init_work(work, 0);
	work->data = (atomic_long_t)WORK_DATA_INIT();
#ifdef CONFIG_LOCKDEP
	lockdep_init_map(&work->lockdep_map, name, key, 0);
#endif
	INIT_LIST_HEAD(&work->entry);
	work->func = func;
}

/* queue_work is static inline: false when the work was queued already. */
static inline bool rkk_queue_work(struct workqueue_struct *queue, struct work_struct *work)
{
	return queue_work(queue, work);
}

/* The module's own queue (workqueue::system()), made before its init and destroyed after its
 * exit; alloc_workqueue is a macro on older kernels. Unbound: 7.x WARNs for a queue that says
 * neither WQ_PERCPU (new in 7.x) nor WQ_UNBOUND (every kernel). */
static inline struct workqueue_struct *rkk_alloc_module_workqueue(void)
{
	return alloc_workqueue("%s", WQ_UNBOUND, 0, KBUILD_MODNAME);
}

/* The faux bus (Linux 6.14 on): a device of the module's own with no hardware behind it. On an
 * older kernel the wrappers exist but are never called: kernel::faux refuses to compile there. */
#if __has_include(<linux/device/faux.h>)
#include <linux/device/faux.h>

static inline void *rkk_faux_device_create(const char *name, struct device *parent)
{
	return faux_device_create(name, parent, NULL);
}

static inline void rkk_faux_device_destroy(void *faux)
{
	faux_device_destroy(faux);
}

static inline struct device *rkk_faux_device_dev(void *faux)
{
	return &((struct faux_device *)faux)->dev;
}
#else
static inline void *rkk_faux_device_create(const char *name, struct device *parent)
{
	return NULL;
}

static inline void rkk_faux_device_destroy(void *faux)
{
}

static inline struct device *rkk_faux_device_dev(void *faux)
{
	return NULL;
}
#endif

/* A driver's data for a bound device: dev_get_drvdata/dev_set_drvdata are inlines. */
static inline void *rkk_dev_get_drvdata(struct device *dev)
{
	return dev_get_drvdata(dev);
}

static inline void rkk_dev_set_drvdata(struct device *dev, void *data)
{
	dev_set_drvdata(dev, data);
}

/* PCI drivers: __pci_register_driver with the module's own struct module and name (what the
 * pci_register_driver macro passes), and what is a macro or an inline on some kernels. */
static inline int rkk_pci_register_driver(struct pci_driver *driver, struct module *owner, const char *name)
{
	return __pci_register_driver(driver, owner, name);
}

static inline struct device *rkk_pci_device(struct pci_dev *pdev)
{
	return &pdev->dev;
}

/* vendor, device, revision, subsystem vendor and device: fields whose offsets move between kernels. */
static inline void rkk_pci_ids(const struct pci_dev *pdev, unsigned short *ids)
{
	ids[0] = pdev->vendor;
	ids[1] = pdev->device;
	ids[2] = pdev->revision;
	ids[3] = pdev->subsystem_vendor;
	ids[4] = pdev->subsystem_device;
}

/* Enabled for the binding: disabled again by devres when the driver lets the device go (after its
 * remove, or a failed probe), as pcim_enable_device does for memory and I/O both. */
static void rkk_pci_disable_device(void *pdev)
{
	pci_disable_device(pdev);
}

static inline int rkk_pci_enable_device_mem(struct pci_dev *pdev)
{
	int status = pci_enable_device_mem(pdev);

	if (status)
		return status;
	return devm_add_action_or_reset(&pdev->dev, rkk_pci_disable_device, pdev);
}

static inline unsigned long long rkk_pci_resource_len(struct pci_dev *pdev, int bar)
{
	return pci_resource_len(pdev, bar);
}

/* pci_iomap/pci_iounmap: macros on some architectures (arm). */
static inline void *rkk_pci_iomap(struct pci_dev *pdev, int bar)
{
	return (void __force *)pci_iomap(pdev, bar, 0);
}

static inline void rkk_pci_iounmap(struct pci_dev *pdev, void *address)
{
	pci_iounmap(pdev, (void __iomem __force *)address);
}

/* ioread/iowrite: functions on x86 (GENERIC_IOMAP), inlines elsewhere. */
static inline unsigned char rkk_ioread8(void __iomem *addr) { return ioread8(addr); }
static inline unsigned short rkk_ioread16(void __iomem *addr) { return ioread16(addr); }
static inline unsigned int rkk_ioread32(void __iomem *addr) { return ioread32(addr); }
static inline void rkk_iowrite8(unsigned char value, void __iomem *addr) { iowrite8(value, addr); }
static inline void rkk_iowrite16(unsigned short value, void __iomem *addr) { iowrite16(value, addr); }
static inline void rkk_iowrite32(unsigned int value, void __iomem *addr) { iowrite32(value, addr); }

/* Interrupts: request_irq is an inline wrapping request_threaded_irq. */

static inline int rkk_request_irq(unsigned int irq, irq_handler_t handler, irq_handler_t thread,
				  unsigned long flags, const char *name, void *data)
{
	return request_threaded_irq(irq, handler, thread, flags, name, data);
}

static inline void rkk_irq_free(unsigned int irq, void *data)
{
	free_irq(irq, data);
}

static inline void rkk_irq_synchronize(unsigned int irq)
{
	synchronize_irq(irq);
}

/* devm_add_action is a macro on newer kernels; the action runs when the driver lets the device go. */
static inline int rkk_devm_add_action(struct device *dev, void (*action)(void *), void *data)
{
	return devm_add_action(dev, action, data);
}

/* devm_add_action_or_reset: an inline or macro; runs the action at once when it cannot be added. */
static inline int rkk_devm_add_action_or_reset(struct device *dev, void (*action)(void *), void *data)
{
	return devm_add_action_or_reset(dev, action, data);
}

/* PCI interrupt vectors, freed by devres at unbind, after the driver's data. The types are the
 * kernel's bits (INTx 1, MSI 2, MSI-X 4 in every kernel; INTx's name moved from PCI_IRQ_LEGACY
 * to PCI_IRQ_INTX in 6.8). */
static void rkk_pci_free_irq_vectors(void *pdev)
{
	pci_free_irq_vectors(pdev);
}

static inline int rkk_pci_alloc_irq_vectors(struct pci_dev *pdev, unsigned int min, unsigned int max, unsigned int types)
{
	int count = pci_alloc_irq_vectors(pdev, min, max, types);
	int status;

	if (count < 0)
		return count;
	status = devm_add_action_or_reset(&pdev->dev, rkk_pci_free_irq_vectors, pdev);
	return status ? status : count;
}

static inline int rkk_pci_irq_vector(struct pci_dev *pdev, unsigned int index)
{
	return pci_irq_vector(pdev, index);
}

static inline void rkk_pci_clear_master(struct pci_dev *pdev)
{
	pci_clear_master(pdev);
}

/* DMA: inlines on most kernels; dma_addr_t is 32 bits on some 32-bit ones, 64 here. No 64-bit
 * value is passed by value: i386 kernels pass arguments in registers (regparm), where a 64-bit
 * one is split in a way Rust's and C's compilers need not agree on. */
static inline int rkk_dma_set_mask_and_coherent(struct device *dev, unsigned int bits)
{
	return dma_set_mask_and_coherent(dev, DMA_BIT_MASK(bits));
}

static inline void *rkk_dma_alloc_coherent(struct device *dev, size_t size, unsigned long long *handle)
{
	dma_addr_t address = 0;
	void *cpu = dma_alloc_coherent(dev, size, &address, GFP_KERNEL);

	*handle = address;
	return cpu;
}

static inline void rkk_dma_free_coherent(struct device *dev, size_t size, void *cpu, const unsigned long long *handle)
{
	dma_free_coherent(dev, size, cpu, (dma_addr_t)*handle);
}

/* Platform drivers. `remove` returns nothing from Linux 6.11 on and an int before: the driver's
 * own (which returns nothing) is kept beside the C structure, and on older kernels called from a
 * function that returns 0. */
struct rkk_platform_driver {
	struct platform_driver driver;
	void (*remove)(struct platform_device *pdev);
};

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
static int rkk_platform_remove(struct platform_device *pdev)
{
	struct platform_driver *driver = to_platform_driver(pdev->dev.driver);

	container_of(driver, struct rkk_platform_driver, driver)->remove(pdev);
	return 0;
}
#endif

/* The platform_driver_register macro with the module's own struct module and name in place of
 * THIS_MODULE and KBUILD_MODNAME (it passes the name too from Linux 7.x on). */
static inline int rkk_platform_register_driver(struct rkk_platform_driver *driver, struct module *owner,
					       const char *name)
{
	int status;

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	driver->driver.remove = driver->remove;
#else
	driver->driver.remove = rkk_platform_remove;
#endif
#pragma push_macro("THIS_MODULE")
#pragma push_macro("KBUILD_MODNAME")
#undef THIS_MODULE
#undef KBUILD_MODNAME
#define THIS_MODULE owner
#define KBUILD_MODNAME name
	status = platform_driver_register(&driver->driver);
#pragma pop_macro("KBUILD_MODNAME")
#pragma pop_macro("THIS_MODULE")
	(void)name;
	return status;
}

static inline void rkk_platform_unregister_driver(struct rkk_platform_driver *driver)
{
	platform_driver_unregister(&driver->driver);
}

static inline struct device *rkk_platform_device(struct platform_device *pdev)
{
	return &pdev->dev;
}

/* A platform device's memory resource `index`, requested under `name` and mapped: the address, its
 * size in `*size`; NULL and `*status` (-ENOENT: no such resource) on failure. The resource's
 * address stays on the C side (it may be 64 bits on a 32-bit kernel). */
static inline void *rkk_platform_iomap(struct platform_device *pdev, unsigned int index, const char *name,
				       unsigned long *size, int *status)
{
	struct resource *resource = platform_get_resource(pdev, IORESOURCE_MEM, index);
	void __iomem *address;

	if (!resource) {
		*status = -ENOENT;
		return NULL;
	}
	if (!request_mem_region(resource->start, resource_size(resource), name)) {
		*status = -EBUSY;
		return NULL;
	}
	address = ioremap(resource->start, resource_size(resource));
	if (!address) {
		release_mem_region(resource->start, resource_size(resource));
		*status = -ENOMEM;
		return NULL;
	}
	*size = resource_size(resource);
	return (void __force *)address;
}

static inline void rkk_platform_iounmap(struct platform_device *pdev, unsigned int index, void *address)
{
	struct resource *resource = platform_get_resource(pdev, IORESOURCE_MEM, index);

	iounmap((void __iomem __force *)address);
	release_mem_region(resource->start, resource_size(resource));
}

/* Interrupt `index` of a platform device: its line, or a negative errno (quietly: none is fine). */
static inline int rkk_platform_irq(struct platform_device *pdev, unsigned int index)
{
	return platform_get_irq_optional(pdev, index);
}

/* The index in `table` of the entry `dev` matched, or -1 (no firmware node of that kind, or bound
 * another way: driver_override). The stubs of kernels without OF or ACPI find nothing. */
static inline long rkk_of_match_index(struct device *dev, const struct of_device_id *table)
{
	const struct of_device_id *id = table ? of_match_device(table, dev) : NULL;

	return id ? id - table : -1;
}

static inline long rkk_acpi_match_index(struct device *dev, const struct acpi_device_id *table)
{
	const struct acpi_device_id *id = table ? acpi_match_device(table, dev) : NULL;

	return id ? id - table : -1;
}

/* Firmware nodes (device tree or ACPI) and their properties: dev_fwnode and the reference count
 * are inlines or macros on some kernels. */
static inline struct fwnode_handle *rkk_dev_fwnode(struct device *dev)
{
	return dev_fwnode(dev);
}

static inline bool rkk_is_of_node(struct fwnode_handle *fwnode)
{
	return is_of_node(fwnode);
}

static inline struct fwnode_handle *rkk_fwnode_get(struct fwnode_handle *fwnode)
{
	return fwnode_handle_get(fwnode);
}

static inline void rkk_fwnode_put(struct fwnode_handle *fwnode)
{
	fwnode_handle_put(fwnode);
}

/* The reference's node (counted, or NULL) and its arguments, `*count` of them, in `args` (room
 * for NR_FWNODE_REFERENCE_ARGS): the Rust side never depends on the struct's layout. */
static inline int rkk_fwnode_get_reference_args(struct fwnode_handle *fwnode, const char *name,
						const char *count_name, unsigned int count, unsigned int index,
						struct fwnode_handle **node, unsigned int *found, u64 *args, unsigned int room)
{
	struct fwnode_reference_args reference = {};
	unsigned int i;
	int status = fwnode_property_get_reference_args(fwnode, name, count_name, count, index, &reference);

	if (status)
		return status;
	*node = reference.fwnode;
	*found = min_t(unsigned int, reference.nargs, room);
	for (i = 0; i < *found; i++)
		args[i] = reference.args[i];
	return 0;
}

/* The node's full path (`/rust-device/child`), as printk's %pfwf writes it. */
static inline int rkk_fwnode_path(struct fwnode_handle *fwnode, char *buffer, size_t size)
{
	return snprintf(buffer, size, "%pfwf", fwnode);
}

/* The auxiliary bus (CONFIG_AUXILIARY_BUS, Linux 5.11 on; not in every kernel's config). A device
 * of ours carries the Rust registration's data beside it, found again only through our own
 * release function (a device another driver made has another). Where the bus is missing, the
 * types exist for the bindings and the functions are never called: kernel::auxiliary refuses to
 * compile there. */
#if __has_include(<linux/auxiliary_bus.h>)
#include <linux/auxiliary_bus.h>
#else
struct auxiliary_device { struct device dev; const char *name; u32 id; };
struct auxiliary_device_id { char name[32]; kernel_ulong_t driver_data; };
struct auxiliary_driver {
	int (*probe)(struct auxiliary_device *auxdev, const struct auxiliary_device_id *id);
	void (*remove)(struct auxiliary_device *auxdev);
	const char *name;
	struct device_driver driver;
	const struct auxiliary_device_id *id_table;
};
#endif

struct rkk_auxiliary_device {
	struct auxiliary_device adev;
	void *data;
};

#if IS_ENABLED(CONFIG_AUXILIARY_BUS)
static void rkk_auxiliary_release(struct device *dev)
{
	kfree(container_of(dev, struct rkk_auxiliary_device, adev.dev));
}

/* A device `<modname>.<name>.<id>` under `parent`, added to the bus: NULL and `*status` on failure. */
static inline struct auxiliary_device *rkk_auxiliary_device_add(struct device *parent, const char *name, u32 id,
								const char *modname, void *data, int *status)
{
	struct rkk_auxiliary_device *aux = kzalloc(sizeof(*aux), GFP_KERNEL);

	if (!aux) {
		*status = -ENOMEM;
		return NULL;
	}
	aux->adev.name = name;
	aux->adev.id = id;
	aux->adev.dev.parent = parent;
	aux->adev.dev.release = rkk_auxiliary_release;
	aux->data = data;
	*status = auxiliary_device_init(&aux->adev);
	if (*status) {
		kfree(aux);
		return NULL;
	}
	*status = __auxiliary_device_add(&aux->adev, modname);
	if (*status) {
		auxiliary_device_uninit(&aux->adev);	/* its release frees it */
		return NULL;
	}
	return &aux->adev;
}

/* Deleted (its driver unbound first), then the last count dropped: freed by its release. */
static inline void rkk_auxiliary_device_remove(struct auxiliary_device *adev)
{
	auxiliary_device_delete(adev);
	auxiliary_device_uninit(adev);
}

static inline void *rkk_auxiliary_data(struct auxiliary_device *adev)
{
	if (adev->dev.release != rkk_auxiliary_release)
		return NULL;
	return container_of(adev, struct rkk_auxiliary_device, adev)->data;
}

static inline int rkk_auxiliary_register_driver(struct auxiliary_driver *driver, struct module *owner, const char *modname)
{
	return __auxiliary_driver_register(driver, owner, modname);
}

static inline void rkk_auxiliary_unregister_driver(struct auxiliary_driver *driver)
{
	auxiliary_driver_unregister(driver);
}
#else
static inline struct auxiliary_device *rkk_auxiliary_device_add(struct device *parent, const char *name, u32 id,
								const char *modname, void *data, int *status)
{
	*status = -ENODEV;
	return NULL;
}
static inline void rkk_auxiliary_device_remove(struct auxiliary_device *adev) { }
static inline void *rkk_auxiliary_data(struct auxiliary_device *adev) { return NULL; }
static inline int rkk_auxiliary_register_driver(struct auxiliary_driver *driver, struct module *owner, const char *modname)
{
	return -ENODEV;
}
static inline void rkk_auxiliary_unregister_driver(struct auxiliary_driver *driver) { }
#endif

static inline struct device *rkk_auxiliary_device_dev(struct auxiliary_device *adev)
{
	return &adev->dev;
}

static inline u32 rkk_auxiliary_device_id(struct auxiliary_device *adev)
{
	return adev->id;
}

