# test_start_1.py -- the start script of seed 004 §3.6.4 ("启动脚本示例"), pointed at the test's
# edgefleetd. Run by tests/integration/30-seed-controller.py with Debian's python3.
# completed for the test: not in the seed -- where the seed hard-codes its cloud host, port and
# SFTP account (from User.py, "这个实际不需要"), this script reads them from the environment the
# test sets, so that the restart order's os.execl (same argv, same environment) finds them again.
import os
from controller.controller_main import startControllerBasicApp

Host = "127.0.0.1"  # completed for the test: not in the seed (the seed: "112.124.43.208")
Port = int(os.environ["EF_SEED_PORT"])  # completed for the test: not in the seed (the seed: 9090)
sftp_user = os.environ.get("EF_SEED_SFTP_USER", "edgefleet")  # completed for the test: not in the seed
sftp_password = os.environ.get("EF_SEED_SFTP_PASSWORD", "unused")  # completed for the test: not in the seed

# 自定义指令中执行函数要求使用关键字参数
# 指令：test_order
def test_order_exec(SomethingToPrint="Hello World"):
    print(SomethingToPrint)

startControllerBasicApp(
    host=Host,
    port=Port,
    sftp_host=Host,
    sftp_port=22,
    sftp_username=sftp_user,
    sftp_password=sftp_password,
    device_id=None,
    device_password=os.environ.get("EF_SEED_PASSWORD", "testpassword"),  # completed for the test: not in the seed (the seed: "testpassword")
    device_hardware_sn="SN123",
    device_hardware_model="ModelB",
    device_log_dir=os.environ["EF_SEED_LOG_DIR"],  # completed for the test: not in the seed (the seed: ../../device2_log)
    device_log_name="device2.log",
    max_retries=5,
    outer_order_dict={"test_order":test_order_exec} # 暴露给用户的可配置自定义指令字典
)
