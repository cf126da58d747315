# Seed 004 §3.6.4 (edgefleet's own design document), copied verbatim for the compatibility test
# (tests/integration/30-seed-controller.py). Lines marked "# completed for the test: not in the seed" fill in what the
# document omits ("# ...... 略", functions it calls but does not show, imports).

import psutil
import json
import asyncio
import websockets
import random

def get_cpu_info():
    """获取CPU信息"""
    cpu_times = psutil.cpu_times()
    return {
        "user_cpu_time": cpu_times.user,
        "system_cpu_time": cpu_times.system,
        "idle_cpu_time": cpu_times.idle,
        "io_wait_cpu_time": getattr(cpu_times, "iowait", 0)
    }

def get_memory_info():
    """获取内存信息"""
    memory_info = psutil.virtual_memory()
    return {
        "total_memory_mb": memory_info.total // 1024 // 1024,
        "free_memory_mb": memory_info.free // 1024 // 1024,
        "buff_cache_mb": (memory_info.buffers + memory_info.cached) // 1024 // 1024
    }

def get_disk_info():
    """获取磁盘信息（仅获取根目录信息）"""
    root_disk = psutil.disk_usage('/')
    return {
        "root_total_size_mb": root_disk.total // 1024 // 1024,
        "root_used_size_mb": root_disk.used // 1024 // 1024,
        "root_used_percent": root_disk.percent
    }

def collect_status_info():
    """收集设备所有状态信息"""
    return {
        "CPU_info": get_cpu_info(),
        "Memory_info": get_memory_info(),
        "Disk_info": get_disk_info()
    }

def easyTest():
    return {
        "position":random.randint(1,100)
    }
