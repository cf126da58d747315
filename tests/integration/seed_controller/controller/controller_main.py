# Seed 004 §3.6.4 (edgefleet's own design document), copied verbatim for the compatibility test
# (tests/integration/30-seed-controller.py). Lines marked "# completed for the test: not in the seed" fill in what the
# document omits ("# ...... 略", functions it calls but does not show, imports).

# completed for the test: not in the seed: the imports and module state the document's code uses
import asyncio
import json
import time

import websockets
from websockets import WebSocketClientProtocol

from controller import getStatusInfo
from controller.config import config
from controller.execorder import execOrder
from controller.logger import SetLogMessage, myLogger

# completed for the test: not in the seed
failureCount = 0  # consecutive heartbeat / status failures
Ws = None  # the latest connection
Flag = 0  # 1: a business message went out, the next ping may wait
latestBussinessTimeStamp = time.time()  # when that business message went out


# completed for the test: not in the seed
def safe_json_loads(text):
    """The parsed JSON message, or None when it is not JSON."""
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return None


# completed for the test: not in the seed
def wait_time_from(timestamp, interval):
    """Seconds left until `interval` seconds after `timestamp` (never negative)."""
    return max(0.0, interval - (time.time() - timestamp))


# completed for the test: not in the seed: login as in docs/protocol.md#login (id when known, else sn + model; the password)
async def Login(ws):
    if config.device_id:
        loginInfo = {"device_id": config.device_id, "password": config.device_password}
    else:
        loginInfo = {"device_sn": config.device_hardware_sn, "device_model": config.device_hardware_model, "password": config.device_password}
    try:
        await ws.send(json.dumps(loginInfo))
        response = await asyncio.wait_for(ws.recv(), timeout=5)
    except Exception as e:
        myLogger.error(f"Login error: {e}")
        return False
    response_data = safe_json_loads(response)
    if not isinstance(response_data, dict) or response_data.get("status") != "success":
        myLogger.error(f"Login failed: {response_data}")
        return False
    config.device_id = response_data["data"]["device_id"]  # 保存登录凭证
    myLogger.info(f"successfully login as {config.device_id}.")
    return True


def startControllerBasicApp(host=None, port=None, sftp_host=None, sftp_port=None, sftp_username=None, sftp_password=None, device_id=None, device_password=None, device_hardware_sn=None, device_hardware_model=None, device_log_dir=None, device_log_name=None, max_retries=None, outer_order_dict={}):
    """
    边端基础应用启动函数
    """
    global config
    config.Set(host=host, port=port, sftp_host=sftp_host, sftp_port=sftp_port, sftp_username=sftp_username, sftp_password=sftp_password, device_id=device_id, device_password=device_password, device_hardware_sn=device_hardware_sn, device_hardware_model=device_hardware_model, device_log_dir=device_log_dir, device_log_name=device_log_name, max_retries=max_retries, outer_order_dict=outer_order_dict)
    SetLogMessage(myLogger,config.device_log_dir,config.device_log_local_path) # 配置完config后再配置日志
    asyncio.run(connect()) # 启动连接

# 6.发起连接
async def connect():
    global failureCount,Ws,Flag
    retries = 0
    while retries < config.max_retries:
        try:
            myLogger.info("Ready to connect to Server.")
            async with websockets.connect(config.server_url) as ws: # 发起webSocket连接
                myLogger.info("successfully connect to Server.")
                Ws = ws # 保存最新连接
                failureCount = 0 # 重置失败次数
                Flag = 0 # 重置Flag
                
                # 先鉴权
                if await Login(ws) is False:
                    continue
                # 写事件分派
                events = get_events()
                asyncio.create_task(public_recv(ws,events)) # 异步添加公共接受点任务
                asyncio.create_task(uploadStatusInfo(ws,events["receive_statusSend_response"])) # 异步添加上传状态信息任务
                await ping_pong(ws,events["ping_pong"]) # 开始ping-pong 心跳
                
        except Exception as e:
            myLogger.error(f"Error: {e},disconnect to Server.")
        myLogger.info("Server Offline. try-reconnect 10s later.")
        retries += 1
        await asyncio.sleep(10) # 重连间隔10s

def get_events():
    Events = {
        "ping_pong":{"event":asyncio.Event(),"data":None},
        "receive_statusSend_response":{"event":asyncio.Event(),"data":None},
        # "receive_sendInstruction":{"event":asyncio.Event(),"data":None}
        "restart_confirm":{"event":asyncio.Event(),"data":None} # 这个Event仅用来针对重启指令
    }
    return Events

# 2.定义公共接收入口和分派函数
async def public_recv(ws:WebSocketClientProtocol,Events):
    while True:
        try:
            response = await ws.recv()
            response_data = safe_json_loads(response)
            print(response_data) # 打印接收到的消息，用于调试
            
            if response_data.get("type") == "ping_pong": # 接收到pong帧
                Events["ping_pong"]["data"] = response_data
                Events["ping_pong"]["event"].set()
            elif response_data.get("type") == "send_statusInfo_response": # 接收到对状态上传的回应
                Events["receive_statusSend_response"]["data"] = response_data
                Events["receive_statusSend_response"]["event"].set()
            elif response_data.get("type") == "give_order":
                # 接收到下达指令
                asyncio.create_task(execOrder(ws,response_data,Events["restart_confirm"]))
            elif response_data.get("type") == "restart_confirm":
                Events["restart_confirm"]["data"] = response_data
                Events["restart_confirm"]["event"].set()
            else:
                pass
        except (websockets.exceptions.ConnectionClosed, asyncio.CancelledError): # 处理连接关闭异常
            break
        except Exception: #处理其它异常
            break

# 3.定义心跳处理函数
async def ping_pong(ws:WebSocketClientProtocol,event:asyncio.Event):
    global failureCount,Flag
    while True:
        try:
            while Flag == 1:
                Flag = 0
                await asyncio.sleep(wait_time_from(latestBussinessTimeStamp,5))
            
            # 因为网络波动客观存在，因此总是设置 “发起ping请求间隔” 为5s
            await ws.send(json.dumps({"type":"ping_pong","Headers":{},"data":"ping"}))
            last_send_ping = time.time()
            myLogger.info(f"send ping")
            
            await asyncio.wait_for(event["event"].wait(),timeout=3) # 发出ping到接收pong最多等3秒
            event["event"].clear()
            failureCount = 0 # 成功一次后失败次数就清零
            Flag = 0 # 观察后5s内是否有别的业务报文上传
            myLogger.info(f"successfully receive pong")
            await asyncio.sleep(wait_time_from(last_send_ping,5)) # 等到了pong，就有5s的容许期
        except asyncio.TimeoutError:
            failureCount += 1 # 失败次数递增
            if failureCount >= 3: # 失败三次断开连接
                myLogger.info(f"Timeout! No pong received within 5 seconds.")
                failureCount = 0
                break  # 退出业务发送，准备重连
            continue #超时，直接开始下次心跳发送
        except (websockets.exceptions.ConnectionClosed, asyncio.CancelledError): # 处理连接关闭异常
            break # 退出循环，停止业务
        except Exception as e:
            myLogger.error(f"Error during business: {e}")
            break  # 发生错误退出循环，停止业务

# 4.定义状态上传函数
async def uploadStatusInfo(ws:WebSocketClientProtocol,event:asyncio.Event):
    # 发起请求间隔为15s
    global failureCount,Flag,latestBussinessTimeStamp,Ws
    while True:
        try:
            StatusInfo = getStatusInfo.collect_status_info()
            await ws.send(json.dumps({"type":"upload_status_info","Headers":{},"data":StatusInfo}))
            myLogger.info(f"Send StatusInfo")
            Flag = 1
            last_send_status = latestBussinessTimeStamp = time.time()
            await asyncio.wait_for(event["event"].wait(),timeout=3) # 一样最多等3秒
            event["event"].clear()
            failureCount = 0 # 成功一次后失败次数就清零
            myLogger.info(f"successfully receive response of statusSend")
            await asyncio.sleep(wait_time_from(last_send_status,15)) # 每隔15s发送状态报文
        except asyncio.TimeoutError:
            if ws != Ws: # 若连接断开，则不再发送状态报文
                break
            myLogger.info(f"Timeout! Failed to send StatusInfo.")
            failureCount += 1 # 失败次数递增
            if failureCount >= 3: # 失败三次断开连接
                failureCount = 0
                break  # 退出业务发送，准备重连
            continue #超时，直接开始下次状态报文发送
        except (websockets.exceptions.ConnectionClosed, asyncio.CancelledError): # 处理连接关闭异常
            break # 退出循环，停止业务
        except Exception as e:
            myLogger.error(f"Error during business: {e}")
            break  # 发生错误退出循环，停止业务
