# Seed 004 §3.6.4 (edgefleet's own design document), copied verbatim for the compatibility test
# (tests/integration/30-seed-controller.py). Lines marked "# completed for the test: not in the seed" fill in what the
# document omits ("# ...... 略", functions it calls but does not show, imports).

# 配置对象，用于初始化时指定配置参数
import os
current_dir = os.path.dirname(os.path.abspath(__file__))

class Config:
    def __init__(self, host=None, port=None, sftp_host=None, sftp_port=None, sftp_username=None, sftp_password=None, device_id=None, device_password=None, device_hardware_sn=None, device_hardware_model=None, device_log_dir=current_dir, device_log_name="device.log", max_retries=5, outer_order_dict={}):
        # ...... 略
        # completed for the test: not in the seed (from here to the end of __init__)
        self.host = host
        self.port = port
        self.sftp_host = sftp_host
        self.sftp_port = sftp_port
        self.sftp_username = sftp_username
        self.sftp_password = sftp_password
        self.device_id = device_id
        self.device_password = device_password
        self.device_hardware_sn = device_hardware_sn
        self.device_hardware_model = device_hardware_model
        self.device_log_dir = device_log_dir
        self.device_log_name = device_log_name
        self.max_retries = max_retries
        self.outer_order_dict = dict(outer_order_dict)
        
    def Set(self, host=None, port=None, sftp_host=None, sftp_port=None, sftp_username=None, sftp_password=None, device_id=None, device_password=None, device_hardware_sn=None, device_hardware_model=None, device_log_dir=None, device_log_name=None, max_retries=None, outer_order_dict={}):
        # ...... 略
        # completed for the test: not in the seed (from here to the end of Set): only what is given changes
        given = dict(host=host, port=port, sftp_host=sftp_host, sftp_port=sftp_port, sftp_username=sftp_username, sftp_password=sftp_password, device_id=device_id, device_password=device_password, device_hardware_sn=device_hardware_sn, device_hardware_model=device_hardware_model, device_log_dir=device_log_dir, device_log_name=device_log_name, max_retries=max_retries)
        for key, value in given.items():
            if value is not None:
                setattr(self, key, value)
        if outer_order_dict:
            self.outer_order_dict = dict(outer_order_dict)

    # completed for the test: not in the seed: the two derived values controller_main uses
    # (the scheme: ws, or wss from EF_SEED_SCHEME for tests/integration/65-tls.py)
    @property
    def server_url(self):
        return f"{os.environ.get('EF_SEED_SCHEME', 'ws')}://{self.host}:{self.port}/ws"

    # completed for the test: not in the seed
    @property
    def device_log_local_path(self):
        return os.path.join(self.device_log_dir, self.device_log_name)

# 暴露单例对象
config:Config = Config()
