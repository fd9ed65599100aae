import { describeExample } from '../readme/describe-example';

describeExample('decoder-browser');
