# Seed 004 §3.6.4 (edgefleet's own design document), copied verbatim for the compatibility test
# (tests/integration/30-seed-controller.py). Lines marked "# completed for the test: not in the seed" fill in what the
# document omits ("# ...... 略", functions it calls but does not show, imports).

import asyncio
import asyncssh
import os
from controller.logger import myLogger

async def sftp_upload_log(device_id: str, log_file: str, remote_dir: str, sftp_host: str, sftp_port: int, sftp_username: str, sftp_password: str):
    """
    上传日志到远程 SFTP 服务器。
    """
    # 确保日志目录和文件存在，不存在就创建
    if not os.path.exists(log_file):
        with open(log_file, 'w') as file:
            pass
    remote_file = os.path.join(remote_dir, f"{device_id}.log")
    
    # 使用 asyncssh 执行 SFTP 上传操作
    try:
        myLogger.info("try to upload log.")
        async with asyncssh.connect(sftp_host, port=sftp_port, username=sftp_username, password=sftp_password,known_hosts=None) as conn:
            # print("uchhhhhhhheueuuuuuuuu")
            sftp = await conn.start_sftp_client()
            # 上传文件
            # print(log_file)
            # print(remote_file)
            await sftp.put(log_file, remote_file)
            myLogger.info(f"Successfully uploaded {log_file} to {remote_file}")
            return True
    except Exception as e:
        myLogger.error(f"Failed to upload log file {log_file}: {e}")
        return False
