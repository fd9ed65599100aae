import { describeExample } from '../readme/describe-example';

describeExample('attnviz-montage');
