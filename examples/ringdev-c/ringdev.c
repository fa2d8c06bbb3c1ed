// SPDX-License-Identifier: GPL-2.0
/*
 * The C side of ringdev: registers the misc device /dev/ringdev and forwards its file
 * operations to the Rust core (rust/src/lib.rs), under one mutex. The Rust core copies the
 * user's buffers itself (rust/src/user.rs, through the bindings of kernel_api.h).
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>

int ringdev_init(void);
void ringdev_exit(void);
int ringdev_open(void);
ssize_t ringdev_write_user(const char __user *buf, size_t len);
ssize_t ringdev_read_user(char __user *buf, size_t len);

static DEFINE_MUTEX(ringdev_lock);

static int ringdev_fop_open(struct inode *inode, struct file *file)
{
	int ret;

	mutex_lock(&ringdev_lock);
	ret = ringdev_open();
	mutex_unlock(&ringdev_lock);
	return ret;
}

static ssize_t ringdev_fop_write(struct file *file, const char __user *buf, size_t len, loff_t *pos)
{
	ssize_t ret;

	mutex_lock(&ringdev_lock);
	ret = ringdev_write_user(buf, len);
	mutex_unlock(&ringdev_lock);
	return ret;
}

static ssize_t ringdev_fop_read(struct file *file, char __user *buf, size_t len, loff_t *pos)
{
	ssize_t ret;

	mutex_lock(&ringdev_lock);
	ret = ringdev_read_user(buf, len);
	mutex_unlock(&ringdev_lock);
	return ret;
}

static const struct file_operations ringdev_fops = {
	.owner = THIS_MODULE,
	.open = ringdev_fop_open,
	.read = ringdev_fop_read,
	.write = ringdev_fop_write,
	.llseek = noop_llseek,
};

static struct miscdevice ringdev_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ringdev",
	.fops = &ringdev_fops,
	.mode = 0666,
};

static int __init ringdev_module_init(void)
{
	int ret = ringdev_init();

	if (ret)
		return ret;
	ret = misc_register(&ringdev_misc);
	if (ret)
		ringdev_exit();
	return ret;
}

static void __exit ringdev_module_exit(void)
{
	misc_deregister(&ringdev_misc);
	ringdev_exit();
}

module_init(ringdev_module_init);
module_exit(ringdev_module_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("a ring buffer character device whose logic is Rust, built by rustkmod");
