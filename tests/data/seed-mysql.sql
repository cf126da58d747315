-- SPDX-License-Identifier: MIT
-- seed-mysql.sql -- a small database in the original system's MySQL schema (the tables devices,
-- group_info and relations of its Database_OP.py, restated in docs/cli.md#import-seed), for
-- `edgefleetctl import-seed` (tests/integration/29-import-seed.py). Load it into an empty
-- database: mariadb DB < seed-mysql.sql.
--
-- The devices' passwords are bcrypt hashes made with python3-bcrypt (the original server's
-- library) at cost 4-5, one per prefix the importer must carry over:
--   SEED-0001/EG-100  alpha-pass-1    $2b$
--   SEED-0002/EG-100  bravo-pass-2    $2a$
--   SEED-0003/EG-200  charlie-pass-3  $2y$
--   SEED-0004/EG-200  delta-pass-4    $2b$ (cost 5; no NIC, no software version, UTF-8 name)
-- Groups: north (devices 1, 2), south (devices 1, 3, 4), spare (empty).

SET NAMES utf8mb4;

CREATE TABLE devices (
  device_id BIGINT NOT NULL PRIMARY KEY,
  device_name VARCHAR(255),
  device_type VARCHAR(255),
  hardware_sn VARCHAR(255) NOT NULL,
  hardware_model VARCHAR(255) NOT NULL,
  software_version VARCHAR(255),
  software_last_update DATE,
  nic1_type VARCHAR(64),
  nic1_mac VARCHAR(64),
  nic1_ipv4 VARCHAR(64),
  nic2_type VARCHAR(64),
  nic2_mac VARCHAR(64),
  nic2_ipv4 VARCHAR(64),
  dev_description TEXT,
  dev_state VARCHAR(32),
  password VARCHAR(255) NOT NULL,
  created_time BIGINT,
  updated_time BIGINT,
  UNIQUE KEY sn_model (hardware_sn, hardware_model)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE group_info (
  group_id BIGINT NOT NULL PRIMARY KEY,
  group_name VARCHAR(255) NOT NULL UNIQUE,
  group_description TEXT,
  created_time BIGINT,
  updated_time BIGINT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE relations (
  device_id BIGINT NOT NULL,
  group_id BIGINT NOT NULL,
  PRIMARY KEY (device_id, group_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

INSERT INTO devices (device_id, device_name, device_type, hardware_sn, hardware_model, software_version, software_last_update, nic1_type, nic1_mac, nic1_ipv4, nic2_type, nic2_mac, nic2_ipv4, dev_description, dev_state, password, created_time, updated_time) VALUES
  (7145632512345678848, 'gw-north-1', 'gateway', 'SEED-0001', 'EG-100', '1.4.2', '2023-05-17', 'ethernet', '00:1a:2b:3c:4d:01', '192.168.10.11', 'wifi', '00:1a:2b:3c:4d:81', '192.168.20.11', 'rack 1, top', 'online', '$2b$04$NwRJd4igh546c6f.YDnu/eMYOp6HDWcmeXJ1dstnLR/KEVXN/EzZ2', 1684300000000, 1700000000000),
  (7145632512345678849, 'gw-north-2', 'gateway', 'SEED-0002', 'EG-100', '1.4.2', '2023-05-17', 'ethernet', '00:1a:2b:3c:4d:02', '192.168.10.12', NULL, NULL, NULL, 'rack 2', 'offline', '$2a$04$8Ls7xiFUxxqQlPNHHKgSQuHKg/3BaZVutMpZFDHpdKWtBvwT2NWa.', 1684300000001, 1700000000001),
  (7145632512345678850, 'cam-south-1', 'camera', 'SEED-0003', 'EG-200', '2.0.0', '2024-01-09', 'ethernet', '00:1a:2b:3c:4d:03', '192.168.11.13', NULL, NULL, NULL, 'south gate', 'offline', '$2y$04$Wjk/ikks/RFF60Y5QLf3hu0ihh7tTAnyILcRg.lDHn3wUj5oi/5ze', 1684300000002, 1700000000002),
  (7145632512345678851, '边缘网关-4', 'gateway', 'SEED-0004', 'EG-200', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '边缘网关 (no NIC recorded)', 'offline', '$2b$05$KFNle3SGwU.qTA2pmWgY1etK7v7zh0wdAgJnlVy5aVCogV3KMP1MS', 1684300000003, 1700000000003);

INSERT INTO group_info (group_id, group_name, group_description, created_time, updated_time)
VALUES
  (1001, 'north', 'racks 1-4', 1684300000000, 1684300000000),
  (1002, 'south', 'the south gate', 1684300000001, 1684300000001),
  (1003, 'spare', NULL, 1684300000002, 1684300000002);

INSERT INTO relations (device_id, group_id) VALUES
  (7145632512345678848, 1001),
  (7145632512345678849, 1001),
  (7145632512345678848, 1002),
  (7145632512345678850, 1002),
  (7145632512345678851, 1002);
